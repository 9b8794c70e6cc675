"""The text of the starter job file `zsync init` writes: one connection and one export per
product, with comments for a first-time reader.

Kept as text, not built from data and dumped as YAML: the comments are the point, and a
YAML dumper would drop them. tests/commands/test_init.py validates and runs what comes out,
the commented-out imports included (uncommented), against the embedded emulator.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from zsync.products import PRODUCTS, Product
from zsync.resources import load_schema

DOCS = "docs/job-file.md"

_AUTH = """\
    auth:
      client_id: "${ZOHO_CLIENT_ID}"
      client_secret: "${ZOHO_CLIENT_SECRET}"
      refresh_token: "${ZOHO_REFRESH_TOKEN}"
"""


@dataclass(frozen=True)
class Fragment:
    """What one product adds to the file; the `import_*` parts are written commented out."""

    connection: str
    job: str
    import_connection: str = ""  # connection keys only the import needs
    import_job: str = ""
    import_note: str = ""


FRAGMENTS: dict[Product, Fragment] = {
    "crm": Fragment(
        connection="""\
  crm:
    product: crm                 # crm | bigin | creator | analytics
    dc: com                      # data centre: com | eu | in | com.au | jp | ca | sa | uk | com.cn
""",
        import_connection="""\
    org_id: "${ZOHO_CRM_ORG_ID}" # Setup > Company Details; imports into CRM need it
""",
        job="""\
  crm_leads:
    description: Every lead, a few of its fields
    tags: [crm]                  # zsync run FILE --select tag:crm runs only these
    export:
      from: crm                  # a connection above
      module: Leads              # a module's API name: Leads, Contacts, Accounts, Deals...
      fields: [First_Name, Last_Name, Email, Company, Lead_Status]  # omit for every field
      criteria: {api_name: Lead_Status, comparator: not_equal, value: Lost Lead}
    output: crm/leads.csv        # relative to output_dir
""",
        import_note="To write a CSV into a CRM module, uncomment org_id above and this job:",
        import_job="""\
  crm_leads_back:
    needs: [crm_leads]           # starts once crm_leads succeeded; skipped if it failed
    import:
      to: crm
      module: Leads
      file: crm/leads.csv        # relative to output_dir
      operation: upsert          # insert | update | upsert (update and upsert need find_by)
      find_by: Email
    output: crm/leads_back       # per-row results: crm/leads_back.results.csv
""",
    ),
    "bigin": Fragment(
        connection="""\
  bigin:
    product: bigin
    dc: com
""",
        job="""\
  bigin_contacts:
    tags: [bigin]
    export:
      from: bigin
      module: Contacts           # Accounts (Companies), Contacts, Deals, Tasks, Events...
      fields: [First_Name, Last_Name, Email]
    output: bigin/contacts.csv
""",
    ),
    "creator": Fragment(
        connection="""\
  creator:
    product: creator
    dc: com
    owner: "${ZOHO_CREATOR_OWNER}" # the app owner's name, as in the app's URL
    app: "${ZOHO_CREATOR_APP}"     # the application's link name
""",
        job="""\
  creator_orders:
    tags: [creator]
    export:
      from: creator
      report: All_Orders         # a report's link name in your app
      criteria: 'Status == "Open"'  # Creator's criteria expression; omit for every record
    output: creator/orders.csv
""",
    ),
    "analytics": Fragment(
        connection="""\
  analytics:
    product: analytics
    dc: com
    org_id: "${ZOHO_ANALYTICS_ORG_ID}"          # sent as ZANALYTICS-ORGID
    workspace: "${ZOHO_ANALYTICS_WORKSPACE_ID}" # the workspace's id, from its URL
""",
        job="""\
  analytics_sales:
    tags: [analytics]
    export:
      from: analytics
      view: Sales                # a table or report of the workspace: its name or id
      format: csv                # csv | json | xml | xls | pdf | html
    output: analytics/sales.csv
""",
        import_note="To load a CSV into a table (made from the file's columns if it is new):",
        import_job="""\
  analytics_sales_copy:
    needs: [analytics_sales]
    import:
      to: analytics
      table: Sales_Copy
      file: analytics/sales.csv  # relative to output_dir
      mode: truncateadd          # append | truncateadd | updateadd (needs matching_columns)
      create_table: true
""",
    ),
}


def schema_url() -> str:
    """The schema's stable public address: a modeline that names it works in any directory."""
    url: str = load_schema("zsync")["$id"]
    return url


def commented(block: str) -> str:
    """YAML lines as comments at the same indentation, so uncommenting restores them."""
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "".join(f"{line[:indent]}# {line[indent:]}\n" for line in lines)


def starter_text(products: tuple[Product, ...], file_name: str) -> str:
    """The starter job file for these products (in PRODUCTS order, each once)."""
    chosen = [p for p in PRODUCTS if p in products]
    parts = [_header(chosen, file_name), "version: 1\n\n", _CONNECTIONS_INTRO, "connections:\n"]
    for product in chosen:
        fragment = FRAGMENTS[product]
        parts += [fragment.connection, _AUTH]
        if fragment.import_connection:
            parts.append(commented(fragment.import_connection))
    parts += ["\n", _DEFAULTS, "\n", _JOBS_INTRO, "jobs:\n"]
    for index, product in enumerate(chosen):
        fragment = FRAGMENTS[product]
        parts.append(("" if index == 0 else "\n") + fragment.job)
        if fragment.import_job:
            parts += ["\n", f"  # {fragment.import_note}\n", commented(fragment.import_job)]
    return "".join(parts)


def _header(products: list[Product], file_name: str) -> str:
    made_by = " ".join(["zsync init", *products])
    return f"""\
# yaml-language-server: $schema={schema_url()}
#
# A zsync job file: the Zoho connections to use and the bulk jobs to run against them
# (written by `{made_by}`). The first line gives editors the schema: completion,
# and each key's description on hover. Every key is documented in {DOCS} in zsync's
# sources; `zsync schema` prints the schema.
#
# Try it now against the embedded emulator (demo data; nothing leaves the machine):
#   zsync run {file_name} --emulator
# Then, with your Zoho credentials in the environment:
#   zsync validate {file_name}    check the file (no network)
#   zsync plan {file_name}        what a run would do: jobs, limits, API calls (no network)
#   zsync run {file_name}         run the jobs; the last line names the run manifest

"""


_CONNECTIONS_INTRO = textwrap.dedent("""\
    # Connections: one per Zoho product account or organisation; jobs name them in
    # from: and to:. Secrets stay out of this file: "${VAR}" reads an environment variable
    # (${VAR:-default} with a fallback), and zsync never prints or records the values.
    # The variables follow one scheme: ZOHO_<WHAT> for the OAuth self-client every
    # connection shares (make one in Zoho's API console, api-console.zoho.com or your data
    # centre's, with the bulk scopes of your products), ZOHO_<PRODUCT>_<WHAT> for one
    # product's ids. Give a connection its own ZOHO_<PRODUCT>_CLIENT_ID... if it needs
    # another client.
    """)

_DEFAULTS = textwrap.dedent("""\
    # Settings every job inherits (poll, retry and results too: see the docs).
    defaults:
      output_dir: exports          # exports land here, imports read here; relative to this file
    """)

_JOBS_INTRO = textwrap.dedent("""\
    # Jobs: each is one export: or one import:. They run concurrently within each
    # organisation's limits, each after the jobs it needs:.
    """)

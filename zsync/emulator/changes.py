"""Records changing between two exports: what incremental-sync tests need from a live Zoho.

`touch` edits some existing records and adds new ones, stamping `Modified_Time` with the
emulated clock's now, as Zoho does on every save: ISO 8601 for CRM and Bigin, Creator's
`dd-MMM-yyyy HH:mm:ss` for Creator. Which records change is drawn from the seed and the
call's own arguments, so a test reproduces the same changes on every run.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from zsync.emulator.clock import creator_time, iso
from zsync.emulator.data import SCHEMAS, Ids, Module, Row, generate

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

TOUCHABLE = ("crm", "bigin", "creator")  # the products whose records carry Modified_Time


def touch(
    emulator: Emulator,
    product: str,
    module: str,
    changed: int = 0,
    added: int = 0,
    at: float | None = None,
) -> list[str]:
    """Edit `changed` existing records of `module` (for Creator a form, or a report's link
    name) and add `added` new ones, all modified at `at` (epoch seconds; default the
    emulator's now). Returns the ids touched."""
    if product not in TOUCHABLE:
        raise ValueError(f"touch works on {', '.join(TOUCHABLE)} records, not {product}")
    emulator.settle()
    if product == "creator" and module in emulator.creator.reports:
        module = emulator.creator.reports[module].form
    table = emulator.table(product, module)
    when = emulator.clock.now() if at is None else at
    stamp = creator_time(when) if product == "creator" else iso(when)
    schema = SCHEMAS[product][module]
    ids = Ids(emulator.config.seed, product)
    draw = random.Random(f"{emulator.config.seed}/touch/{product}/{module}/{len(table)}/{stamp}")
    touched: list[str] = []
    key = "ID" if product == "creator" else "id"
    for index in draw.sample(range(len(table)), min(changed, len(table))):
        table.update(index, _edit(schema, ids, draw) | {"Modified_Time": stamp})
        touched.append(str(table.get(index)[key]))
    sizes = {name: emulator.config.size(product, name) for name in SCHEMAS[product]}
    for _ in range(added):
        index = len(table)
        row = generate(emulator.config.seed, schema, index, ids, sizes)
        row["Modified_Time"] = stamp
        if product != "creator":  # Creator's Added_Time isn't emulated
            row["Created_Time"] = stamp
        table.append(row)
        touched.append(str(row[key]))
    return touched


def _edit(schema: Module, ids: Ids, draw: random.Random) -> Row:
    """One plausible edit; what changed matters less than when. A changed owner is an edit
    every CRM/Bigin module has; a Creator form gets its first choice field set again."""
    if schema.product != "creator":
        return {"Owner": ids.user(draw.randrange(5))}
    for field in schema.fields:
        if field.type == "picklist":
            return {field.api_name: draw.choice(field.choices)}
    return {}

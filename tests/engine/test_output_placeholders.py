"""`{run_id}` and `{started}` in an export's output: each run of an incremental export keeps
its rows in a file of its own, named in the manifest; a resumed run writes the same names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .conftest import Harness
from .test_incremental import exported_ids

CONTACTS = """\
contacts:
  export:
    from: crm
    module: Contacts
    fields: [Last_Name, Modified_Time]
    incremental: {field: Modified_Time, overlap: 10m}
  output: crm/contacts-{run_id}.csv
"""


def compact(started_at: str) -> str:
    return datetime.fromisoformat(started_at.replace("Z", "+00:00")).strftime("%Y%m%dT%H%M%SZ")


async def test_each_incremental_run_keeps_its_rows_in_its_own_file(zoho: Harness) -> None:
    first = await zoho.run(CONTACTS)
    assert first.code == 0, first.log
    touched = set(zoho.emulator.touch("crm", "Contacts", changed=3, added=2))
    second = await zoho.run(CONTACTS)
    assert second.code == 0, second.log
    files = {run.run_id: run.out / f"crm/contacts-{run.run_id}.csv" for run in (first, second)}
    assert sorted(p.name for p in (first.out / "crm").iterdir()) == sorted(
        p.name for p in files.values()
    )
    assert second.job("contacts")["output"]["path"] == str(files[second.run_id])
    assert touched <= exported_ids(files[second.run_id])
    assert len(exported_ids(files[second.run_id])) < len(exported_ids(files[first.run_id]))


async def test_started_is_the_runs_start_in_utc(zoho: Harness) -> None:
    run = await zoho.run(CONTACTS.replace("{run_id}", "{started}-{{x}}"))
    assert run.code == 0, run.log
    name = f"contacts-{compact(run.manifest['started_at'])}-{{x}}.csv"
    assert Path(run.job("contacts")["output"]["path"]).name == name


async def test_a_resumed_run_writes_the_same_file_names(zoho: Harness) -> None:
    broken = CONTACTS + "broken:\n  export: {from: crm, module: Nowhere}\n  output: x.csv\n"
    failed = await zoho.run(broken)
    assert failed.code == 1
    path = Path(failed.job("contacts")["output"]["path"])
    assert path.name == f"contacts-{failed.run_id}.csv"

    kept = await zoho.run(broken, resume=failed.run_id)
    assert kept.run_id == failed.run_id
    assert kept.job("contacts")["output"]["path"] == str(path)
    assert any("1 job(s) done and verified" in line for line in kept.log), kept.log

    path.unlink()  # gone: the resumed run exports again, to the same name
    again = await zoho.run(broken, resume=failed.run_id)
    assert any("its output is gone" in line for line in again.log), again.log
    assert again.job("contacts")["output"]["path"] == str(path) and path.is_file()

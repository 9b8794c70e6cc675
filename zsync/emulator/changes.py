"""Records changing between two exports: what incremental-sync tests need from a live Zoho.

`touch` edits some existing records and adds new ones, stamping `Modified_Time` with the
emulated clock's now, as Zoho does on every save. Which records change is drawn from the
seed and the call's own arguments, so a test reproduces the same changes on every run.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from zsync.emulator.clock import iso
from zsync.emulator.data import SCHEMAS, Ids, generate

if TYPE_CHECKING:
    from zsync.emulator.emulator import Emulator

TOUCHABLE = ("crm", "bigin")  # the products whose records carry Modified_Time


def touch(
    emulator: Emulator,
    product: str,
    module: str,
    changed: int = 0,
    added: int = 0,
    at: float | None = None,
) -> list[str]:
    """Edit `changed` existing records of `module` and add `added` new ones, all modified at
    `at` (epoch seconds; default the emulator's now). Returns the ids touched."""
    if product not in TOUCHABLE:
        raise ValueError(f"touch works on {', '.join(TOUCHABLE)} records, not {product}")
    emulator.settle()
    table = emulator.table(product, module)
    stamp = iso(emulator.clock.now() if at is None else at)
    schema = SCHEMAS[product][module]
    ids = Ids(emulator.config.seed, product)
    draw = random.Random(f"{emulator.config.seed}/touch/{product}/{module}/{len(table)}/{stamp}")
    touched: list[str] = []
    for index in draw.sample(range(len(table)), min(changed, len(table))):
        # A changed owner is an edit every module has; what changed matters less than when.
        owner = ids.user(draw.randrange(5))
        table.update(index, {"Owner": owner, "Modified_Time": stamp})
        touched.append(str(table.get(index)["id"]))
    sizes = {name: emulator.config.size(product, name) for name in SCHEMAS[product]}
    for _ in range(added):
        index = len(table)
        row = generate(emulator.config.seed, schema, index, ids, sizes)
        row |= {"Created_Time": stamp, "Modified_Time": stamp}
        table.append(row)
        touched.append(str(row["id"]))
    return touched

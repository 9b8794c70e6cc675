"""A faithful local emulator of Zoho's asynchronous bulk APIs (CRM, Bigin, Creator, Analytics).

Two ways in, one state (as in moto): `running_emulator()` serves real HTTP on a free port for any
client, and the yielded handle's `.emulator` lets a test read and steer the same state.

    async with running_emulator(EmulatorConfig(time_scale=3600)) as running:
        running.base_url                  # http://127.0.0.1:PORT, also the OAuth api_domain
        running.emulator.faults.fail_next("crm.bulk_read.create")
        running.emulator.ground_truth.crm_bulk_read("Leads", ["Last_Name"])

This package imports nothing from the rest of zsync, so a client bug cannot hide in shared code.
"""

from zsync.emulator.app import RunningEmulator, create_app, running_emulator
from zsync.emulator.clock import Clock, ManualClock, ScaledClock
from zsync.emulator.config import DEFAULT_SIZES, EmulatorConfig, FaultConfig
from zsync.emulator.emulator import Emulator
from zsync.emulator.faults import Faults
from zsync.emulator.ground_truth import GroundTruth
from zsync.emulator.server import banner, serve, serve_async

__all__ = [
    "DEFAULT_SIZES",
    "Clock",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "Faults",
    "GroundTruth",
    "ManualClock",
    "RunningEmulator",
    "ScaledClock",
    "banner",
    "create_app",
    "running_emulator",
    "serve",
    "serve_async",
]

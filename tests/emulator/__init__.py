"""Tests of zsync.emulator: raw HTTP against real servers on 127.0.0.1."""

"""Eight capture stations running the demo's session at once against one real verifier process
(the field report: with two analysis threads the verifier crashed in 4 runs of 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.stations import make_inputs, run_fleet

STATIONS = 8


@pytest.mark.slow
def test_eight_stations_at_once_all_get_a_verdict(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "inputs")
    # A generous ceiling only: on 2 shared cores a run takes about a minute.
    result = run_fleet(STATIONS, inputs, tmp_path / "run", timeout_s=900)
    assert not result.verifier_crashed, result.crash_lines
    assert result.verifier_exit == 0  # still up at the end, and shuts down cleanly
    assert [s.decision is not None for s in result.stations] == [True] * STATIONS, \
        [s.exit_code for s in result.stations]

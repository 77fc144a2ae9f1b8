"""The capacity model's pure functions (bench/capacity_model.py) against textbook queueing
results, and the sizing's refusals of what cannot be met."""

from __future__ import annotations

import math

import pytest

from bench.capacity_model import (Costs, Volume, erlang_c, plan, processor_sharing_sojourns,
                                  servers_needed, sojourn_quantile, wait_quantile, wait_tail)

COSTS = Costs(cpu_s=13.0, work_samples=(12.0, 13.0, 14.0), replica_base_mib=650.0,
              face_bytes_per_case=512, finger_bytes_per_case=20640,
              db_bytes_per_case=300_000, db_rows_per_case=56, embedding_dim=128)


@pytest.mark.parametrize(("servers", "erlangs", "expected"), [
    (1, 0.7, 0.7),  # M/M/1: an arrival waits with probability rho
    (2, 1.0, 1 / 3),  # M/M/2 at rho 0.5
    (3, 2.0, 4 / 9),
    (11, 10.0, 0.6821),  # the call-centre example: 10 Erlangs on 11 agents, 68.2 % wait
])
def test_erlang_c_matches_textbook_values(servers: int, erlangs: float, expected: float) -> None:
    assert erlang_c(servers, erlangs) == pytest.approx(expected, abs=5e-5)


def test_erlang_c_refuses_a_load_the_servers_cannot_carry() -> None:
    with pytest.raises(ValueError, match="grow without bound"):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError, match="grow without bound"):
        erlang_c(2, 2.5)


def test_mm1_wait_tail_and_quantile_are_the_exponential_law() -> None:
    # M/M/1, lambda 0.5, mu 1: P(W > t) = rho exp(-(mu - lambda) t).
    assert wait_tail(1, 0.5, 1.0, 2.0) == pytest.approx(0.5 * math.exp(-1.0))
    assert wait_quantile(1, 0.5, 1.0, 0.95) == pytest.approx(math.log(10) / 0.5)
    # Fewer than 5 % wait at all: the 95th percentile wait is zero.
    assert wait_quantile(4, 0.1, 1.0, 0.95) == 0.0
    # Deterministic service halves the waiting (Allen-Cunneen: (1 + 0) / 2).
    assert wait_quantile(1, 0.5, 1.0, 0.95, service_cv2=0.0) == pytest.approx(
        math.log(10) / 1.0)


def test_a_quantile_outside_zero_and_one_is_refused() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        wait_quantile(1, 0.5, 1.0, 1.0)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        sojourn_quantile(1, 0.5, [1.0], 0.0)


def test_sojourn_is_the_service_alone_when_nobody_else_comes() -> None:
    assert sojourn_quantile(1, 1e-6, [5.0], 0.95) == pytest.approx(5.0, abs=1e-3)
    # Under load the same service takes longer.
    assert sojourn_quantile(1, 0.12, [5.0], 0.95) > 10.0


def test_processor_sharing_mean_is_kleinrocks() -> None:
    # M/G/1-PS: mean time in system of a job of size x is x / (1 - rho), whatever the
    # service distribution.
    for rho in (0.3, 0.6):
        times = processor_sharing_sojourns(1, rho / 5.0, [5.0], jobs=20000, seed=3)
        assert sum(times) / len(times) == pytest.approx(5.0 / (1 - rho), rel=0.05)
    # Two threads: alone, each job runs at full speed.
    alone = processor_sharing_sojourns(2, 1e-4, [4.0, 6.0], jobs=200)
    assert {round(t, 6) for t in alone} == {4.0, 6.0}


def test_processor_sharing_refuses_an_overload() -> None:
    with pytest.raises(ValueError, match="without bound"):
        processor_sharing_sojourns(1, 0.25, [4.0, 5.0])


def test_more_load_needs_more_servers() -> None:
    counts = [servers_needed(rate, 13.0, 0.6, 5.0) for rate in (0.01, 0.1, 1.0, 5.0)]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert counts[-1] >= math.ceil(5.0 * 13.0 / 0.6)  # never above the utilisation target
    # A tighter wait target costs servers, never saves them.
    assert servers_needed(1.0, 13.0, 0.95, 0.5) >= servers_needed(1.0, 13.0, 0.95, 60.0)


@pytest.mark.parametrize(("utilisation", "wait"), [(1.0, 5.0), (0.0, 5.0), (1.2, 5.0),
                                                    (0.6, -1.0)])
def test_an_impossible_target_is_refused(utilisation: float, wait: float) -> None:
    with pytest.raises(ValueError):
        servers_needed(1.0, 13.0, utilisation, wait)


def test_peak_hour_of_the_nation() -> None:
    nation = Volume("nation", 3_000_000, 50, "issue")
    assert nation.peak_per_hour == pytest.approx(3_000_000 / 8760 * 50)
    assert round(nation.peak_per_hour) == 17123


def test_plan_grows_with_volume_and_keeps_a_spare_replica() -> None:
    office = plan(Volume("office", 1_200, 50, "x"), COSTS)
    nation = plan(Volume("nation", 3_000_000, 50, "x"), COSTS)
    assert office.replicas == 2  # min_replicas: one replica's loss does not stop the office
    assert nation.replicas > office.replicas
    assert nation.analysis_threads <= nation.replicas * 2
    assert nation.cpu_cores_busy == pytest.approx(3_000_000 / 8760 * 50 / 3600 * 13.0)
    # Ten years of 3 million cases, 128 float32 and a 1.5x index.
    assert nation.vector_gib == pytest.approx(30_000_000 * 128 * 4 * 1.5 / 2**30)
    assert nation.db_gib_per_year == pytest.approx(3_000_000 * 300_000 / 2**30)
    assert nation.replica_mib > office.replica_mib  # every replica holds the galleries
    assert nation.latency_p95_s >= COSTS.cpu_s * 12.0 / 13.0


def test_plan_refuses_a_replica_without_threads() -> None:
    with pytest.raises(ValueError, match="analysis thread"):
        plan(Volume("office", 1_200, 50, "x"), COSTS, threads_per_replica=0)

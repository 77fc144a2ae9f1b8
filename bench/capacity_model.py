"""The capacity model's pure functions: queueing (Erlang C), sizing from per-application costs
and volumes, database and vector-engine sizes. No I/O; bench/capacity.py measures the inputs
and replays load against a verifier to check the predictions.

Queueing: an application is one job. A station's messages are handled in order, so one
application occupies one analysis thread at a time; a replica with `threads` analysis threads
on as many cores is `threads` servers. Waiting times use M/M/c (Erlang C) with the
Allen-Cunneen correction for the variability of arrivals and service, (ca2 + cs2) / 2, applied
to the exponential tail of the wait: P(W > t) = C exp(-t (c mu - lambda) / k)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

HOURS_PER_YEAR = 365 * 24


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/c/c (the stable recursion, no factorials)."""
    if servers < 1 or offered_load < 0:
        raise ValueError(f"need servers >= 1 and offered load >= 0, got {servers}, "
                         f"{offered_load}")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c with `offered_load` = lambda / mu Erlangs;
    refuses a load the servers cannot carry (the queue grows without bound)."""
    if offered_load >= servers:
        raise ValueError(f"offered load {offered_load:.3f} Erlangs needs more than {servers} "
                         "servers: the queue would grow without bound")
    b = erlang_b(servers, offered_load)
    rho = offered_load / servers
    return b / (1.0 - rho * (1.0 - b))


def _variability(arrival_cv2: float, service_cv2: float) -> float:
    if arrival_cv2 < 0 or service_cv2 < 0:
        raise ValueError("squared coefficients of variation cannot be negative")
    return (arrival_cv2 + service_cv2) / 2.0


def wait_tail(servers: int, arrival_rate: float, service_s: float, t: float,
              arrival_cv2: float = 1.0, service_cv2: float = 1.0) -> float:
    """P(wait > t) for `servers` servers, Poisson-like arrivals at `arrival_rate` a second and
    mean service `service_s` seconds."""
    c_wait = erlang_c(servers, arrival_rate * service_s)
    decay = (servers / service_s - arrival_rate) / _variability(arrival_cv2, service_cv2)
    return c_wait * math.exp(-decay * max(t, 0.0))


def wait_quantile(servers: int, arrival_rate: float, service_s: float, q: float,
                  arrival_cv2: float = 1.0, service_cv2: float = 1.0) -> float:
    """The q-quantile of the wait before service starts (0 when at least q never wait)."""
    if not 0 < q < 1:
        raise ValueError(f"a quantile lies strictly between 0 and 1, got {q}")
    c_wait = erlang_c(servers, arrival_rate * service_s)
    if c_wait <= 1 - q:
        return 0.0
    decay = (servers / service_s - arrival_rate) / _variability(arrival_cv2, service_cv2)
    return math.log(c_wait / (1 - q)) / decay


def squared_cv(samples: Sequence[float]) -> float:
    """Squared coefficient of variation (variance / mean^2) of service-time samples."""
    if len(samples) < 2:
        return 0.0
    mean = sum(samples) / len(samples)
    var = sum((x - mean) ** 2 for x in samples) / (len(samples) - 1)
    return var / mean**2


def sojourn_quantile(servers: int, arrival_rate: float, service_samples: Sequence[float],
                     q: float, arrival_cv2: float = 1.0) -> float:
    """The q-quantile of arrival-to-done time: the wait (above) convolved with the measured
    service times (each sample equally likely), solved by bisection."""
    if not service_samples:
        raise ValueError("need at least one measured service time")
    if not 0 < q < 1:
        raise ValueError(f"a quantile lies strictly between 0 and 1, got {q}")
    mean = sum(service_samples) / len(service_samples)
    cs2 = squared_cv(service_samples)

    def done_by(t: float) -> float:
        return sum(1.0 - wait_tail(servers, arrival_rate, mean, t - s, arrival_cv2, cs2)
                   if t >= s else 0.0 for s in service_samples) / len(service_samples)

    lo, hi = 0.0, max(service_samples) + wait_quantile(
        servers, arrival_rate, mean, 1 - (1 - q) / 10, arrival_cv2, cs2) + 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if done_by(mid) < q else (lo, mid)
    return hi


def processor_sharing_sojourns(servers: int, arrival_rate: float,
                               work_samples: Sequence[float], jobs: int = 20000,
                               seed: int = 1) -> list[float]:
    """Arrival-to-done times of `jobs` Poisson arrivals on `servers` threads shared equally by
    the jobs present (each gets min(1, servers / n) of a thread): the verifier's work queue
    interleaves the items of every open application, so an application does not wait for
    others to finish. Work drawn from the measured samples; a seeded event simulation."""
    if servers < 1 or arrival_rate <= 0 or not work_samples:
        raise ValueError("need servers >= 1, a positive arrival rate and measured work")
    if arrival_rate * sum(work_samples) / len(work_samples) >= servers:
        raise ValueError("the load needs more threads than given: the backlog would grow "
                         "without bound")
    rng = random.Random(seed)
    arrivals, t = [], 0.0
    for _ in range(jobs):
        t += rng.expovariate(arrival_rate)
        arrivals.append(t)
    remaining: dict[int, float] = {}
    done: list[float] = [0.0] * jobs
    now, nxt = 0.0, 0
    while nxt < jobs or remaining:
        rate = min(1.0, servers / len(remaining)) if remaining else 0.0
        finish_in = min(remaining.values()) / rate if remaining else math.inf
        arrive_in = arrivals[nxt] - now if nxt < jobs else math.inf
        step = min(finish_in, arrive_in)
        for j in remaining:
            remaining[j] -= step * rate
        now += step
        if arrive_in <= finish_in:
            remaining[nxt] = rng.choice(work_samples)
            nxt += 1
        for j in [j for j, left in remaining.items() if left <= 1e-12]:
            done[j] = now - arrivals[j]
            del remaining[j]
    return done


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank (the reports' convention)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def servers_needed(arrival_rate: float, service_s: float, max_utilisation: float,
                   max_wait_p95_s: float, service_cv2: float = 1.0) -> int:
    """Fewest servers keeping utilisation at or under `max_utilisation` and the 95th
    percentile wait at or under `max_wait_p95_s`."""
    if not 0 < max_utilisation < 1:
        raise ValueError(f"a utilisation target lies strictly between 0 and 1, got "
                         f"{max_utilisation}")
    if max_wait_p95_s < 0:
        raise ValueError(f"a wait target cannot be negative, got {max_wait_p95_s} s")
    if arrival_rate <= 0 or service_s <= 0:
        raise ValueError("arrival rate and service time must be positive")
    servers = max(1, math.ceil(arrival_rate * service_s / max_utilisation))
    while wait_quantile(servers, arrival_rate, service_s, 0.95, 1.0,
                        service_cv2) > max_wait_p95_s:
        servers += 1
    return servers


@dataclass(frozen=True)
class Volume:
    """Applications a year at one scale and how peaked the busiest hour is."""

    name: str
    per_year: float
    peak_factor: float  # the busiest hour against the year's average hour
    basis: str  # where the figures come from (stated in the report)

    @property
    def peak_per_hour(self) -> float:
        return self.per_year / HOURS_PER_YEAR * self.peak_factor


@dataclass(frozen=True)
class Costs:
    """Per-application figures measured on this machine (bench/capacity.py)."""

    cpu_s: float  # analysis CPU-seconds one application needs
    work_samples: tuple[float, ...]  # measured applications' analysis seconds (their spread)
    replica_base_mib: float  # a verifier's resident memory with models, before galleries
    face_bytes_per_case: float  # face gallery in a replica's memory
    finger_bytes_per_case: float  # fingerprint index in a replica's memory
    db_bytes_per_case: float
    db_rows_per_case: float
    embedding_dim: int


@dataclass(frozen=True)
class Plan:
    volume: Volume
    arrival_per_s: float
    cpu_cores_busy: float  # CPU-seconds a second at peak
    analysis_threads: int  # servers needed (one core each)
    replicas: int
    wait_p95_s: float  # for a free thread, as if an application held one throughout
    latency_p95_s: float  # analysis time of an application at peak, threads shared
    gallery_cases: int  # cases searchable after `retention_years`
    replica_mib: float
    db_gib_per_year: float
    db_rows_per_year: float
    vector_gib: float  # face vectors and their index at `retention_years`


def plan(volume: Volume, costs: Costs, *, threads_per_replica: int = 2,
         max_utilisation: float = 0.6, max_wait_p95_s: float = 5.0,
         retention_years: float = 10.0, min_replicas: int = 2,
         vector_index_overhead: float = 1.5) -> Plan:
    """Replicas, cores, memory and storage for `volume` at its peak hour. `min_replicas`
    keeps one replica's loss from stopping the service; `vector_index_overhead` is the
    ANN index's size against the raw vectors (HNSW's graph links, about 1.5x at M=16 on
    128-d float32)."""
    if threads_per_replica < 1 or min_replicas < 1:
        raise ValueError("a replica needs at least one analysis thread, a plan one replica")
    rate = volume.peak_per_hour / 3600.0
    cv2 = squared_cv(costs.work_samples)
    threads = servers_needed(rate, costs.cpu_s, max_utilisation, max_wait_p95_s, cv2)
    replicas = max(min_replicas, math.ceil(threads / threads_per_replica))
    servers = replicas * threads_per_replica
    scale = costs.cpu_s / (sum(costs.work_samples) / len(costs.work_samples))
    cases = round(volume.per_year * retention_years)
    gallery_mib = cases * (costs.face_bytes_per_case + costs.finger_bytes_per_case) / 2**20
    return Plan(
        volume=volume, arrival_per_s=rate, cpu_cores_busy=rate * costs.cpu_s,
        analysis_threads=threads, replicas=replicas,
        wait_p95_s=wait_quantile(servers, rate, costs.cpu_s, 0.95, 1.0, cv2),
        latency_p95_s=quantile(processor_sharing_sojourns(
            servers, rate, [w * scale for w in costs.work_samples], jobs=5000), 0.95),
        gallery_cases=cases, replica_mib=costs.replica_base_mib + gallery_mib,
        db_gib_per_year=volume.per_year * costs.db_bytes_per_case / 2**30,
        db_rows_per_year=volume.per_year * costs.db_rows_per_case,
        vector_gib=cases * costs.embedding_dim * 4 * vector_index_overhead / 2**30)

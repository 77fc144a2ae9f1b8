"""Verifier replicas sharing one PostgreSQL database behave like one verifier: real `verifier
serve` processes, real gRPC, the real database (tests/postgres_server.py).

A station's session may move between replicas at any message (its stream broke and the load
balancer sent the new one elsewhere): the auto-capture streak and the accepted photo follow
the case, resends are duplicates wherever they land, a Finish reaching two replicas is decided
once, and a replica killed mid-session or the database restarted loses nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psycopg
import pytest
from grpc_health.v1 import health_pb2
from sqlalchemy import event, func, select

from tests.complete_case import Session, complete_session, frame_jpeg
from tests.harness import ROOT, SubprocessVerifier, health_status
from tests.images import encode
from tests.netcut import CuttableProxy
from tests.postgres_server import PostgresServer
from tests.test_e2e_session import (FPS, Recorder, assert_complete_and_unique,  # noqa: F401
                                    inputs, run_station)
from tests.test_server import error_reason, of, run_stream
from lebong_contract.api.v1 import capture_pb2
from verifier.cases.crypto import KeyFileRing, generate_ring, write_key_file
from verifier.cases.store import CaseStore
from verifier.config import StoreConfig
from lebong_contract.errors import StoreUnavailable
from verifier.galleries.schema import face_gallery
from verifier.synthetic.frames import framed_face

START_S = 180  # model loading of several replicas at once on a loaded 2-core machine


class Replica(SubprocessVerifier):
    """`verifier --config FILE serve`: a replica of the store the configuration names."""

    def __init__(self, config_file: Path, name: str) -> None:
        super().__init__(config_file, log_path=config_file.with_name(f"{name}.log"))
        self.config_file = config_file

    def launch(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "verifier.cli", "--config", str(self.config_file), "serve",
                 "--listen", self.address], cwd=ROOT, stdout=log, stderr=log,
                env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def start(self) -> None:
        self.launch()
        self.wait_serving()

    def wait_serving(self) -> None:
        """SERVING, or a failure with the log's end as soon as the process exits instead."""
        deadline = time.monotonic() + START_S
        while health_status(self.address) != health_pb2.HealthCheckResponse.SERVING:
            assert self.proc is not None and self.proc.poll() is None, \
                f"replica exited:\n{self.log_text()[-3000:]}"
            assert time.monotonic() < deadline, f"replica not SERVING after {START_S} s"
            time.sleep(0.1)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def replica_config(folder: Path, url: str) -> Path:
    """One database's replica configuration: its store and evidence key (PostgreSQL needs
    one configured), prints from no signing device, and frame analysis never skipped as
    busy (these tests count frames on a loaded machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "evidence.keys"
    if not key_file.exists():
        write_key_file(key_file, generate_ring())
    path = folder / "verifier.toml"
    path.write_text(f'[store]\nurl = "{url}"\n[cases]\nkey_file = "{key_file}"\n'
                    "[fingerprint]\nrequire_device_attestation = false\n"
                    "[photo.capture]\nbusy_analysis_ms = 600000.0\n")
    return path


def start_replicas(config_files: list[Path]) -> list[Replica]:
    replicas = [Replica(path, f"replica-{i}") for i, path in enumerate(config_files, 1)]
    for r in replicas:
        r.launch()
    for r in replicas:
        r.wait_serving()
    return replicas


def stop(replicas: list[Replica]) -> None:
    for r in replicas:
        if r.proc is not None and r.proc.poll() is None:
            r.terminate()


def store_of(config_file: Path, url: str) -> CaseStore:
    return CaseStore(url, KeyFileRing(config_file.with_name("evidence.keys")))


class Pair:
    def __init__(self, r1: Replica, r2: Replica, store: CaseStore) -> None:
        self.r1, self.r2, self.store = r1, r2, store


@pytest.fixture(scope="module")
def pair(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Pair]:
    """Two replicas of one database."""
    url = postgres_server.new_database()
    config_file = replica_config(tmp_path_factory.mktemp("pair"), url)
    replicas = start_replicas([config_file, config_file])
    yield Pair(*replicas, store=store_of(config_file, url))
    stop(replicas)


BLANK = encode(np.full((480, 640, 3), 200, np.uint8))  # decodes, shows no face: not ready


def captures(replies: list[capture_pb2.VerifierMessage]) -> list[int]:
    return [c.sequence for c in of(replies, "capture_accepted")]


def ack_of(replies: list[capture_pb2.VerifierMessage]) -> capture_pb2.Ack:
    (ack,) = of(replies, "ack")
    return ack


# -- auto-capture follows the case --------------------------------------------------------------


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_the_ready_streak_carries_over_to_the_other_replica(pair: Pair) -> None:
    s = Session()
    first = run_stream(pair.r1.address, [s.start(), s.frame(frame_jpeg()),
                                         s.frame(frame_jpeg())])
    assert [g.sequence for g in of(first, "guidance")] == [2, 3] and not captures(first)
    # The third steady frame, on the replica that never saw the first two, is the photo.
    assert captures(run_stream(pair.r2.address, [s.frame(frame_jpeg())])) == [4]
    # The first replica knows it is taken, though it saw neither the streak's end nor it.
    assert not captures(run_stream(pair.r1.address, [s.frame(frame_jpeg())]))
    case = pair.store.find_case(s.sid)
    assert case is not None and pair.store.capture_sequence(case.case_id) == 4


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_a_frame_not_ready_on_one_replica_breaks_the_streak_on_the_other(pair: Pair) -> None:
    s = Session()
    run_stream(pair.r1.address, [s.start(), s.frame(frame_jpeg()), s.frame(frame_jpeg())])
    assert not captures(run_stream(pair.r2.address, [s.frame(BLANK)]))  # 4: no face
    # Replica 1 last saw a streak of 2: a third ready frame is only the first after 4.
    assert not captures(run_stream(pair.r1.address, [s.frame(frame_jpeg())]))  # 5
    assert captures(run_stream(pair.r2.address, [s.frame(frame_jpeg()),
                                                 s.frame(frame_jpeg())])) == [7]


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_two_replicas_racing_on_one_case_accept_one_photo(pair: Pair) -> None:
    s = Session()
    run_stream(pair.r1.address, [s.start(), s.frame(frame_jpeg()), s.frame(frame_jpeg())])
    racing = {pair.r1.address: s.frame(frame_jpeg()), pair.r2.address: s.frame(frame_jpeg())}
    replies = on_threads({address: (lambda a=address, m=message: run_stream(a, [m]))
                          for address, message in racing.items()})
    accepted = [seq for r in replies.values() for seq in captures(r)]
    case = pair.store.find_case(s.sid)
    assert case is not None
    stored = pair.store.capture_sequence(case.case_id)
    assert len(accepted) == 1 and accepted == [stored], replies
    assert all(len(of(r, "ack")) == 1 for r in replies.values())  # both frames committed


def on_threads(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run the calls at once (released together); their results by key."""
    barrier = threading.Barrier(len(calls))
    results: dict[str, Any] = {}

    def run(key: str, call: Callable[[], Any]) -> None:
        barrier.wait()
        results[key] = call()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == len(calls), "a call did not return"
    return results


# -- resends and Finish across replicas -------------------------------------------------------


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_a_resend_to_the_other_replica_is_acknowledged_as_a_duplicate(pair: Pair) -> None:
    s = Session()
    start, frame = s.start(), s.frame(frame_jpeg())
    first = run_stream(pair.r1.address, [start, frame])
    assert [(a.sequence, a.duplicate) for a in of(first, "ack")] == [(1, False), (2, False)]
    again = run_stream(pair.r2.address, [start, frame])
    assert [(a.sequence, a.duplicate) for a in of(again, "ack")] == [(1, True), (2, True)]
    assert not of(again, "guidance")  # not analysed again
    assert pair.store.session_sequences(s.sid) == [1, 2]


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_a_resend_with_another_content_to_the_other_replica_is_refused(pair: Pair) -> None:
    s = Session()
    run_stream(pair.r1.address, [s.start(), s.frame(frame_jpeg())])
    forged = capture_pb2.StationMessage(client_session_id=s.sid, sequence=2,
                                        frame=capture_pb2.CameraFrame(jpeg=BLANK))
    replies = run_stream(pair.r2.address, [forged])
    (error,) = of(replies, "error")
    assert not of(replies, "ack") and error_reason(error.status) == "RESEND_CONFLICT"
    assert pair.store.session_sequences(s.sid) == [1, 2]


@pytest.mark.slow  # two replicas start: 1-2 min on a loaded machine
def test_finish_on_two_replicas_at_once_gives_one_verdict(pair: Pair) -> None:
    s, messages = complete_session(3, finger_base=300, nik="1707014508900002")
    *items, finish = messages
    assert len(of(run_stream(pair.r1.address, items), "ack")) == len(items)
    replies = on_threads({r.address: (lambda a=r.address: run_stream(a, [finish]))
                          for r in (pair.r1, pair.r2)})
    verdicts = [v for r in replies.values() for v in of(r, "verdict")]
    assert len(verdicts) == 2 and verdicts[0] == verdicts[1]
    # One replica decided, the other waited on the case's lock and got the stored verdict.
    assert sorted(ack_of(r).duplicate for r in replies.values()) == [False, True]
    case = pair.store.find_case(s.sid)
    assert case is not None
    kinds = [m.kind for m in pair.store.contents(case.case_id).messages]
    assert kinds.count("finish") == 1
    with pair.store.engine.connect() as db:  # enrolled once, not once per replica
        assert db.scalar(select(func.count()).select_from(face_gallery).where(
            face_gallery.c.case_id == case.case_id)) == 1


# -- the store's database failing under a replica ----------------------------------------------


@pytest.fixture
def pg_store(postgres_server: PostgresServer) -> Iterator[CaseStore]:
    store = CaseStore(postgres_server.new_database(), generate_ring(),
                      StoreConfig(statement_timeout_ms=500, connect_timeout_s=2))
    yield store
    store.close()


def test_replicas_opening_a_new_database_together_migrate_it_once(
        postgres_server: PostgresServer) -> None:
    url, ring = postgres_server.new_database(), generate_ring()
    stores = on_threads({str(i): (lambda: CaseStore(url, ring)) for i in range(4)})
    for store in stores.values():
        assert store.find_case("none") is None
        store.close()


def started_case(store: CaseStore) -> str:
    case, _ = store.start_session(Session().sid, 1, "loket-1", "p-1", {})
    return case.case_id


def kill_connection_on_insert(store: CaseStore, server: PostgresServer, times: int
                              ) -> list[int]:
    """Terminate the backend of the connection about to insert a message, the first `times`
    times (a database failing over mid-transaction); returns the pids terminated."""
    killed: list[int] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _kill(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO messages") and len(killed) < times:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres "
                                 "dbname=postgres", autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)

    return killed


def test_a_connection_lost_mid_write_is_retried_once(pg_store: CaseStore,
                                                     postgres_server: PostgresServer) -> None:
    case_id = started_case(pg_store)
    killed = kill_connection_on_insert(pg_store, postgres_server, times=1)
    assert pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False) == \
        (False, False)
    assert len(killed) == 1
    assert pg_store.missing_sequences(case_id, 3) == []


def test_a_connection_lost_twice_is_unavailable_and_nothing_is_stored(
        pg_store: CaseStore, postgres_server: PostgresServer) -> None:
    case_id = started_case(pg_store)
    killed = kill_connection_on_insert(pg_store, postgres_server, times=5)
    with pytest.raises(StoreUnavailable, match="resend it"):
        pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False)
    assert len(killed) == 2  # the write and its one retry
    assert pg_store.missing_sequences(case_id, 3) == [2]


def lock_case(server: PostgresServer, store: CaseStore, case_id: str) -> psycopg.Connection:
    """Another transaction holding the case's row (a stuck replica)."""
    url = store.engine.url
    conn = psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres "
                           f"dbname={url.database}")
    conn.execute("SELECT id FROM cases WHERE id = %s FOR UPDATE", (case_id,))
    return conn


def test_a_write_waiting_on_a_stuck_lock_gives_up_at_the_statement_timeout(
        pg_store: CaseStore, postgres_server: PostgresServer) -> None:
    case_id = started_case(pg_store)
    holder = lock_case(postgres_server, pg_store, case_id)
    try:
        began = time.monotonic()
        with pytest.raises(StoreUnavailable, match="statement timeout"):
            pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False)
        assert time.monotonic() - began < 5  # 0.5 s, not retried
    finally:
        holder.close()


def test_a_write_on_a_lock_released_in_time_commits(
        pg_store: CaseStore, postgres_server: PostgresServer) -> None:
    case_id = started_case(pg_store)
    holder = lock_case(postgres_server, pg_store, case_id)
    threading.Timer(0.2, holder.close).start()
    assert pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False) == \
        (False, False)


def pg_ctl(server: PostgresServer, action: str) -> None:
    """Stop (fast: every connection is cut) or start the test server, as it was started."""
    options = ["-w", "-t", "30"] + (["-m", "fast"] if action == "stop" else [
        "-l", str(server.dir / "server.log"),
        "-o", f"-p {server.port} -k {server.dir} -h 127.0.0.1 -F"])
    server._run("pg_ctl", "-D", str(server.data), *options, action)


def test_a_database_gone_answers_unavailable_and_its_return_is_picked_up(
        pg_store: CaseStore, postgres_server: PostgresServer) -> None:
    case_id = started_case(pg_store)
    pg_ctl(postgres_server, "stop")
    try:
        began = time.monotonic()
        with pytest.raises(StoreUnavailable, match="did not answer"):
            pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False)
        assert time.monotonic() - began < 10
    finally:
        pg_ctl(postgres_server, "start")
    # Every pooled connection died with the server; the ping before use replaces them.
    assert pg_store.record_message(case_id, 2, "frame", data=b"x", keep_payload=False) == \
        (False, False)


# -- whole sessions --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def steady_inputs(inputs: dict[str, Path],  # noqa: F811
                  tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The end-to-end session's fingers, before a camera on which the applicant stands framed
    and still: every frame alike, so whichever frame a replica takes, the photo, and so the
    verdict, is the same (the walking-up video's photo depends on the machine's speed)."""
    video = tmp_path_factory.mktemp("steady") / "applicant.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    bgr = cv2.cvtColor(framed_face(), cv2.COLOR_RGB2BGR)
    for _ in range(30 * FPS):  # the station stops streaming at the accepted capture
        writer.write(bgr)
    writer.release()
    return {**inputs, "video": video}


def rules(report: Any) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.severity) for f in report.flags)


@pytest.mark.slow
def test_a_station_whose_replica_dies_finishes_on_the_other_with_the_same_verdict(
        postgres_server: PostgresServer, tmp_path: Path, steady_inputs: dict[str, Path]
) -> None:
    shared = postgres_server.new_database()
    alone = postgres_server.new_database()
    shared_config = replica_config(tmp_path / "shared", shared)
    alone_config = replica_config(tmp_path / "alone", alone)
    r1, r2, single = replicas = start_replicas([shared_config, shared_config, alone_config])
    # The load balancer: replica 1 until it dies, then replica 2.
    balancer = CuttableProxy(r1.port)

    def replica_1_dies() -> None:
        r1.kill()
        balancer.cut()
        balancer.target = ("127.0.0.1", r2.port)
        balancer.restore()

    try:
        events = Recorder("guidance", replica_1_dies)
        report, spool = run_station(balancer.address, tmp_path / "spool.sqlite3",
                                    steady_inputs, events)
        assert r1.proc is not None and r1.proc.poll() is not None  # it did die mid-session
        assert events.reconnects >= 1 and balancer.connections_accepted >= 2
        assert spool.pending_count() == 0  # every message acknowledged
        store = store_of(shared_config, shared)
        assert_complete_and_unique(store, report)  # each stored once, one finish, a verdict
        contents = store.contents(report.case_id)
        assert report.capture_accepted_sequence is not None
        assert contents.capture_sequence == report.capture_accepted_sequence
        assert events.accepted == [report.capture_accepted_sequence]

        baseline, _ = run_station(single.address, tmp_path / "spool-alone.sqlite3",
                                  steady_inputs, Recorder())
        assert (report.decision, rules(report)) == (baseline.decision, rules(baseline))
    finally:
        balancer.cut()
        stop(replicas)


@pytest.mark.slow
def test_a_database_restart_mid_session_loses_nothing(
        pair: Pair, postgres_server: PostgresServer, tmp_path: Path,
        inputs: dict[str, Path]) -> None:  # noqa: F811
    restarted = threading.Event()

    def restart_database() -> None:
        pg_ctl(postgres_server, "stop")
        time.sleep(2.0)
        pg_ctl(postgres_server, "start")
        restarted.set()

    events = Recorder("guidance", restart_database)
    report, spool = run_station(pair.r1.address, tmp_path / "spool.sqlite3", inputs, events)
    assert restarted.wait(30)
    # The verifier answered UNAVAILABLE while the database was down; the station resent.
    assert events.reconnects >= 1
    assert "case store unavailable" in pair.r1.log_text()
    assert spool.pending_count() == 0
    assert_complete_and_unique(pair.store, report)

"""The spool keeps every message until acked, across reopening the file."""

from __future__ import annotations

import pytest

from capture_station.errors import MessageTooLarge, SpoolError
from capture_station.spool import Spool
from lebong_contract.api.v1 import capture_pb2


def _frame(jpeg: bytes = b"x") -> capture_pb2.StationMessage:
    return capture_pb2.StationMessage(frame=capture_pb2.CameraFrame(jpeg=jpeg))


def test_sequences_start_at_one_and_survive_reopening(tmp_path):
    path = tmp_path / "spool.sqlite3"
    with Spool(path) as spool:
        start = spool.create_session("s1", "127.0.0.1:1", station_id="st", officer_id="of",
                                     start=capture_pb2.StationMessage(
                                         start=capture_pb2.SessionStart(station_id="st")))
        assert start is not None and start.sequence == 1 and start.client_session_id == "s1"
        assert spool.append("s1", _frame()).sequence == 2
        built = spool.append("s1", lambda seq: capture_pb2.StationMessage(
            frame=capture_pb2.CameraFrame(captured_at_unix_ms=seq)))
        assert built.sequence == 3 and built.frame.captured_at_unix_ms == 3
        assert spool.ack("s1", 2) is True
        assert spool.ack("s1", 2) is False  # a repeated ack is harmless

    with Spool(path) as spool:
        assert [m.sequence for m in spool.unacked("s1")] == [1, 3]
        assert spool.unacked("s1")[0].WhichOneof("payload") == "start"
        assert spool.pending_count("s1") == 2
        assert spool.pending_count() == 2
        [stored] = spool.open_sessions()
        assert (stored.client_session_id, stored.verifier_address, stored.station_id,
                stored.next_sequence, stored.finish_sequence) == ("s1", "127.0.0.1:1", "st", 4,
                                                                   None)
        finish = spool.append("s1", capture_pb2.StationMessage(finish=capture_pb2.Finish()))
        assert finish.sequence == 4
        assert spool.session("s1").finish_sequence == 4


def test_sessions_are_numbered_independently(tmp_path):
    with Spool(tmp_path / "s.db") as spool:
        spool.create_session("a", "v")
        spool.create_session("b", "v")
        assert spool.append("a", _frame()).sequence == 1
        assert spool.append("b", _frame()).sequence == 1
        assert spool.append("a", _frame()).sequence == 2
        assert spool.pending_count("a") == 2 and spool.pending_count("b") == 1


def test_oversized_message_is_refused_and_uses_no_sequence(tmp_path):
    with Spool(tmp_path / "s.db", max_message_bytes=1000) as spool:
        spool.create_session("s", "v")
        with pytest.raises(MessageTooLarge, match="frame message is .* over the 1000-byte"):
            spool.append("s", _frame(b"\0" * 2000))
        assert spool.pending_count("s") == 0
        assert spool.append("s", _frame()).sequence == 1


def test_verdict_closes_session(tmp_path):
    path = tmp_path / "s.db"
    with Spool(path) as spool:
        spool.create_session("s", "v")
        spool.append("s", _frame())
        spool.record_verdict("s", {"case_id": "c1", "decision": "DECISION_PASS"})
    with Spool(path) as spool:
        assert spool.open_sessions() == []
        assert spool.session("s").verdict == {"case_id": "c1", "decision": "DECISION_PASS"}
        # An unacknowledged message is never deleted, not even by the verdict.
        assert spool.pending_count("s") == 1
        with pytest.raises(SpoolError, match="already has a verdict"):
            spool.append("s", _frame())
        with pytest.raises(SpoolError, match="not in"):
            spool.session("nope")
        with pytest.raises(SpoolError, match="already exists"):
            spool.create_session("s", "v")

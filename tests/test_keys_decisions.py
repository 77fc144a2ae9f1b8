"""A case's decision, flags and review decision are authenticated like its evidence: someone
with write access to the database who changes them by SQL is found by `verifier audit
verify` (verifier.cases.decision_check), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.test_cases_audit import cli, config_file, store_for
from verifier.cases.decision_check import case_problem, check_decisions
from verifier.cases.store import CaseStore
from verifier.consistency.verdict import Flag, Severity, decide

SWAPPED = Flag("identity.birth_date_mismatch", Severity.FAIL, "Tanggal lahir berbeda",
               "Birth dates differ")
BLURRY = Flag("photo.blurry", Severity.REVIEW, "Foto buram", "Photo is blurry")


def finished(store: CaseStore, sid: str, flags: list[Flag]) -> str:
    case, _ = store.start_session(sid, 1, "loket-1", "petugas-1", {"full_name": "SITI"})
    store.finish(case.case_id, 2, decide(case.case_id, flags))
    return case.case_id


def two_cases(store: CaseStore) -> tuple[str, str]:
    """A FAIL case still in the queue and a REVIEW case a reviewer rejected."""
    failing = finished(store, "s1", [SWAPPED, BLURRY])
    reviewed = finished(store, "s2", [BLURRY])
    store.record_review(reviewed, "rina", "REQUEST_DOCUMENTS", "akta is missing")
    store.record_review(reviewed, "rina", "REJECT", "akta does not match")
    return failing, reviewed


TAMPERING = {
    "decision passed": ("UPDATE cases SET decision = 'PASS' WHERE id = :fail",
                        "fail", "decision column says PASS, the sealed verdict FAIL"),
    "a flag dropped": ("UPDATE cases SET flag_rules = ' photo.blurry ' WHERE id = :fail",
                       "fail", "flag columns say ['photo.blurry']"),
    "verdict removed": ("UPDATE cases SET verdict_json = NULL WHERE id = :fail",
                        "fail", "no sealed verdict"),
    "verdict copied from another case": (
        "UPDATE cases SET verdict_json = (SELECT verdict_json FROM cases WHERE id = :fail) "
        "WHERE id = :reviewed", "reviewed", "fails authentication"),
    "review approved": ("UPDATE cases SET review_decision = 'APPROVE' WHERE id = :reviewed",
                        "reviewed", "review decision column says APPROVE, the audit log REJECT"),
    "review row altered": ("UPDATE reviews SET decision = 'APPROVE' WHERE case_id = :reviewed "
                           "AND decision = 'REJECT'", "reviewed", "differ from the audit log"),
    "review row added": ("INSERT INTO reviews (case_id, reviewer, decision, reason, decided_at) "
                         "SELECT case_id, 'budi', 'APPROVE', reason, decided_at FROM reviews "
                         "WHERE case_id = :reviewed AND decision = 'REJECT'",
                         "reviewed", "differ from the audit log"),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_decision_columns_changed_by_sql_are_detected(case_db_url: str, tmp_path: Path,
                                                      tampering: str) -> None:
    config = config_file(tmp_path)
    store = store_for(case_db_url, config)
    fail, reviewed = two_cases(store)
    report = tmp_path / "verify.json"
    verify = ("--config", str(config), "audit", "verify", "--db", case_db_url,
              "--json", str(report))
    code, err = cli(*verify)
    assert code == 0, err  # twin: untouched, every case agrees
    assert json.loads(report.read_text())["cases_checked"] == 2
    assert case_problem(store, fail) == case_problem(store, reviewed) == ""

    sql, target, problem = TAMPERING[tampering]
    with store.engine.begin() as conn:
        conn.execute(text(sql), {"fail": fail, "reviewed": reviewed})
    code, err = cli(*verify)
    assert code == 1
    tampered_id = {"fail": fail, "reviewed": reviewed}[target]
    assert f"case {tampered_id} TAMPERED" in err and problem in err
    result = json.loads(report.read_text())
    assert (result["ok"], result["chain_ok"]) == (False, True)  # the chain itself is intact
    assert [t["case_id"] for t in result["tampered_cases"]] == [tampered_id]
    assert problem in case_problem(store, tampered_id)
    other = reviewed if tampered_id == fail else fail
    assert case_problem(store, other) == ""


def test_an_unfinished_case_and_an_empty_store_pass(tmp_path: Path) -> None:
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert check_decisions(store).ok and check_decisions(store).cases == 0
    store.start_session("s1", 1, "loket-1", "petugas-1", {})
    assert check_decisions(store).ok
    with store.engine.begin() as conn:  # twin: a decision on a case that never finished
        conn.execute(text("UPDATE cases SET decision = 'PASS'"))
    assert "no sealed verdict" in check_decisions(store).tampered[0].problem

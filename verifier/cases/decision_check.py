"""Whether each case's decision columns still say what was authenticated.

The columns the review queue filters on stay in plain text: `decision` and `flag_rules`,
copied from the verdict when the case finished, and `review_decision`, copied from the
latest review. Rather than a second MAC over them, each is checked against the authenticated
record it was copied from:

- `decision` and `flag_rules` against the sealed verdict (AES-GCM under the evidence key,
  its associated data naming the case, so it can be neither forged nor moved from another
  case), and a finished case must have one;
- `review_decision`, and each review row's reviewer and decision, against the case's
  "decision" entries in the MAC-chained audit log, written in the same transaction as the
  review (verifier.cases.store.record_review).

Someone who can write to the database but lacks the evidence keys can change a column but not
the record it must agree with, so `verifier audit verify` names the case. Not covered: a case
made to look unfinished (its finish time, verdict and decision all removed together), since
finishing writes no audit entry, and rewriting by someone who holds the keys (the audit
checkpoint covers review decisions against that).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select

from verifier.cases.crypto import EvidenceKeyError
from verifier.cases.schema import AuditRow, CaseRow, ReviewRow
from verifier.cases.store import CaseStore, flag_column

DECISION_ACTION = "decision"  # the audit action record_review writes


@dataclass(frozen=True)
class TamperedCase:
    case_id: str
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DecisionCheck:
    cases: int
    tampered: tuple[TamperedCase, ...]

    @property
    def ok(self) -> bool:
        return not self.tampered


def check_decisions(store: CaseStore) -> DecisionCheck:
    """Every case, in three scans (cases streamed: their verdicts are not held at once)."""
    tampered: list[TamperedCase] = []
    n = 0
    with store.engine.connect() as db:
        reviews = _by_case(db.execute(select(ReviewRow.case_id, ReviewRow.reviewer,
                                             ReviewRow.decision).order_by(ReviewRow.id)))
        audited = _by_case((r.case_id, r.actor, _decision(r.detail_json)) for r in db.execute(
            select(AuditRow.case_id, AuditRow.actor, AuditRow.detail_json)
            .where(AuditRow.action == DECISION_ACTION).order_by(AuditRow.seq)))
        for c in db.execution_options(yield_per=1000).execute(
                select(CaseRow.id, CaseRow.finished_at, CaseRow.decision, CaseRow.flag_rules,
                       CaseRow.review_decision, CaseRow.verdict_json)
                .order_by(CaseRow.started_at)):
            n += 1
            problem = _problem(store, c, reviews.get(c.id, []), audited.get(c.id, []))
            if problem:
                tampered.append(TamperedCase(c.id, problem))
    return DecisionCheck(n, tuple(tampered))


def case_problem(store: CaseStore, case_id: str) -> str:
    """What is wrong with one case's decision columns ("" when nothing), e.g. for the review
    page to show a case as tampered."""
    with store.engine.connect() as db:
        c = db.execute(select(CaseRow.id, CaseRow.finished_at, CaseRow.decision,
                              CaseRow.flag_rules, CaseRow.review_decision, CaseRow.verdict_json)
                       .where(CaseRow.id == case_id)).first()
        if c is None:
            return ""
        reviews = [(r.reviewer, r.decision) for r in db.execute(
            select(ReviewRow.reviewer, ReviewRow.decision)
            .where(ReviewRow.case_id == case_id).order_by(ReviewRow.id))]
        audited = [(r.actor, _decision(r.detail_json)) for r in db.execute(
            select(AuditRow.actor, AuditRow.detail_json)
            .where(AuditRow.case_id == case_id, AuditRow.action == DECISION_ACTION)
            .order_by(AuditRow.seq))]
    return _problem(store, c, reviews, audited)


def _problem(store: CaseStore, case: Row[Any], reviews: list[tuple[str, str]],
             audited: list[tuple[str, str]]) -> str:
    """`case`: id, finished_at, decision, flag_rules, review_decision, verdict_json."""
    try:
        verdict = store.open_verdict(case.id, case.verdict_json)
    except EvidenceKeyError:
        return "its sealed verdict fails authentication (altered or moved from another case)"
    if verdict is None:
        if case.finished_at is not None or case.decision is not None \
                or case.flag_rules is not None:
            return "it is finished or has a decision but no sealed verdict"
    else:
        if verdict.case_id != case.id:
            return f"its sealed verdict is case {verdict.case_id}'s"
        if case.decision != verdict.decision.value:
            return f"decision column says {case.decision}, the sealed verdict " \
                   f"{verdict.decision.value}"
        rules = flag_column(verdict)
        if case.flag_rules != rules:
            return f"flag columns say {(case.flag_rules or '').split()}, the sealed verdict " \
                   f"{rules.split()}"
    if reviews != audited:
        return f"its reviews {reviews} differ from the audit log's decisions {audited}"
    latest = audited[-1][1] if audited else None
    if case.review_decision != latest:
        return f"review decision column says {case.review_decision}, the audit log {latest}"
    return ""


def _by_case(rows: Any) -> dict[str, list[tuple[str, str]]]:
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for case_id, who, what in rows:
        grouped[case_id].append((who, what))
    return grouped


def _decision(detail_json: str) -> str:
    try:
        return str(json.loads(detail_json).get("decision", ""))
    except (ValueError, AttributeError):
        return ""

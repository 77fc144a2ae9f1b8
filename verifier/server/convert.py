"""Protobuf messages to domain values and back. Unknown enum numbers become UnknownEnumValue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lebong_contract.api.v1 import capture_pb2, precheck_pb2, types_pb2
from verifier.consistency.verdict import Decision, Flag, Match, Verdict
from lebong_contract.errors import MalformedMessage, UnknownEnumValue
from verifier.face.detection import FaceBox
from verifier.face.liveness.session import Prompt
from verifier.item_analysis import ItemAnalysis
from verifier.photo.assessment import PhotoAssessment
from verifier.photo.result import Outcome, RequirementResult

_OUTCOME = {Outcome.PASS: types_pb2.OUTCOME_PASS, Outcome.FAIL: types_pb2.OUTCOME_FAIL,
            Outcome.UNKNOWN: types_pb2.OUTCOME_UNKNOWN}
_DECISION = {Decision.PASS: types_pb2.DECISION_PASS, Decision.REVIEW: types_pb2.DECISION_REVIEW,
             Decision.FAIL: types_pb2.DECISION_FAIL}


def enum_name(enum_type: Any, value: int, field: str, prefix: str) -> str | None:
    """Name of a known enum value without its prefix; None for UNSPECIFIED."""
    try:
        name: str = enum_type.Name(value)
    except ValueError:
        raise UnknownEnumValue(field, value) from None
    return None if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def application_from_pb(app: types_pb2.ApplicationData) -> dict[str, Any]:
    dob = None
    if app.HasField("date_of_birth"):
        d = app.date_of_birth
        try:
            # A day the month lacks (31 February) is refused here: the rules could not parse
            # it and would compare no birth date with the documents'.
            date = dt.date(d.year, d.month, d.day) if 1900 <= d.year <= 2100 else None
        except ValueError:
            date = None
        if date is None:
            raise MalformedMessage(f"application.date_of_birth {d.year}-{d.month}-{d.day} "
                                   "is not a date")
        dob = date.isoformat()
    return {
        "full_name": app.full_name, "nik": app.nik, "date_of_birth": dob,
        "place_of_birth": app.place_of_birth,
        "sex": enum_name(types_pb2.Sex, app.sex, "application.sex", "SEX_"),
        "passport_type": enum_name(types_pb2.PassportType, app.passport_type,
                                   "application.passport_type", "PASSPORT_TYPE_"),
        "parents_consent": app.parents_consent,
        "application_kind": enum_name(types_pb2.ApplicationKind, app.application_kind,
                                      "application.application_kind", "APPLICATION_KIND_"),
    }


def requirement_to_pb(r: RequirementResult) -> types_pb2.RequirementResult:
    return types_pb2.RequirementResult(
        requirement=r.requirement, outcome=_OUTCOME[r.outcome], value=r.value, unit=r.unit,
        score=r.score, threshold=r.threshold, message_id=r.message_id, message_en=r.message_en)


def box_to_pb(box: FaceBox) -> types_pb2.Box:
    return types_pb2.Box(left=box.left, top=box.top, right=box.right, bottom=box.bottom)


def guidance_to_pb(sequence: int, a: PhotoAssessment, liveness: Prompt | None = None
                   ) -> capture_pb2.Guidance:
    failing = a.failing
    # Requirements that fail come first; "cannot assess" only when nothing failed outright.
    to_fix = [r for r in failing if r.outcome is Outcome.FAIL] or list(failing)
    hints = [capture_pb2.Hint(code=r.requirement, message_id=r.message_id,
                              message_en=r.message_en) for r in to_fix]
    if liveness is not None:
        # First: a station that does not know LivenessPrompt still shows the instruction.
        hints.insert(0, capture_pb2.Hint(code=f"liveness_{liveness.action.value}",
                                         message_id=liveness.message_id,
                                         message_en=liveness.message_en))
    g = capture_pb2.Guidance(
        sequence=sequence, ready=a.ready, hints=hints,
        requirements=[requirement_to_pb(r) for r in a.requirements])
    if a.main_face is not None:
        g.face.CopyFrom(box_to_pb(a.main_face.box))
    if liveness is not None:
        g.liveness.CopyFrom(capture_pb2.LivenessPrompt(
            action=capture_pb2.LivenessAction.Value(
                "LIVENESS_ACTION_" + liveness.action.value.upper()),
            step=liveness.step, steps=liveness.steps, message_id=liveness.message_id,
            message_en=liveness.message_en, seconds_left=round(liveness.seconds_left, 2)))
    return g


def flag_to_pb(f: Flag) -> types_pb2.Flag:
    return types_pb2.Flag(rule_id=f.rule_id, severity=int(f.severity), evidence=f.evidence,
                          message_id=f.message_id, message_en=f.message_en)


def match_to_pb(m: Match) -> types_pb2.MatchResult:
    return types_pb2.MatchResult(**m.to_dict())


def verdict_to_pb(v: Verdict) -> capture_pb2.Verdict:
    return capture_pb2.Verdict(case_id=v.case_id, decision=_DECISION[v.decision],
                               flags=[flag_to_pb(f) for f in v.flags],
                               matches=[match_to_pb(m) for m in v.matches])


def item_result_to_pb(sequence: int, item: ItemAnalysis) -> capture_pb2.ItemResult:
    return capture_pb2.ItemResult(
        sequence=sequence, checks=[requirement_to_pb(c) for c in item.checks],
        summary=item.summary,
        fields=[types_pb2.DocumentField(name=f.name, value=f.value, raw_text=f.raw_text,
                                        confidence=f.confidence, corrected_by=f.corrected_by)
                for f in item.fields])


def photo_report_to_pb(photo_id: str, a: PhotoAssessment) -> precheck_pb2.PhotoReport:
    return precheck_pb2.PhotoReport(photo_id=photo_id, compliant=a.ready,
                                    requirements=[requirement_to_pb(r) for r in a.requirements])

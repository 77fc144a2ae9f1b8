"""The liveness rule: with [liveness] on, a session whose challenge was not passed goes to
REVIEW with what was seen, in plain words; never FAIL on its own (a person who did not
understand the prompt, or a camera that dropped frames, must not be rejected by it).

The flag's evidence (which actions, when asked, when seen, the passive cues' shares) is
what the officer and an auditor need; the station shows the flag to the officer of this
applicant only (verifier.consistency.verdict.counter_view), never the applicant.
"""

from __future__ import annotations

from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Severity
from verifier.face.liveness.challenge import INSTRUCTIONS
from verifier.face.liveness.judge import LivenessOutcome, Reason, Status

RULE_FAILED = "face.liveness_failed"
RULE_NOT_DONE = "face.liveness_not_attempted"
_CHECK = ("periksa bahwa pemohon hadir sendiri di depan kamera (bukan foto, layar atau topeng)",
          "check that the applicant stands at the camera in person (not a photo, a screen "
          "or a mask)")


def _why(outcome: LivenessOutcome, timeout_s: float) -> tuple[str, str]:
    step = outcome.steps[-1] if outcome.steps else None
    asked = INSTRUCTIONS[step.action] if step is not None else ("", "")
    if outcome.reason is Reason.NOT_SEEN and step is not None:
        return (f"Gerakan yang diminta tidak terlihat dalam {timeout_s:.0f} detik "
                f"(\"{asked[0]}\")",
                f"The asked action was not seen within {timeout_s:.0f} s (\"{asked[1]}\")")
    if outcome.reason is Reason.WRONG_ACTION:
        return (f"Pemohon menoleh ke arah yang salah (diminta: \"{asked[0]}\")",
                f"The applicant turned the wrong way (asked: \"{asked[1]}\")")
    return {
        Reason.SCREEN: ("Gambar menunjukkan pola layar (moiré atau garis refresh)",
                        "The frames show a screen's pattern (moiré or refresh bands)"),
        Reason.BORDER: ("Terlihat tepi kertas atau ponsel di sekitar wajah",
                        "The edges of a paper or a phone show around the face"),
        Reason.STILL: ("Wajah sama sekali tidak bergerak selama pemeriksaan",
                       "The face did not move at all during the check"),
    }.get(outcome.reason, ("Pemeriksaan keaktifan tidak lulus", "The liveness check failed"))


def _evidence(outcome: LivenessOutcome) -> dict[str, str]:
    evidence = {"status": outcome.status.value, "reason": outcome.reason.value,
                "frames": str(outcome.frames),
                "screen_share": f"{outcome.screen_share:.2f}",
                "border_share": f"{outcome.border_share:.2f}",
                "motion_ied": f"{outcome.motion_ied:.4f}"}
    for i, step in enumerate(outcome.steps, start=1):
        evidence[f"action_{i}"] = step.action.value
        evidence[f"action_{i}_asked_at_s"] = f"{step.asked_at_s:.3f}"
        evidence[f"action_{i}_seen_after_s"] = (
            "" if step.seen_at_s is None else f"{step.seen_at_s - step.asked_at_s:.2f}")
    return evidence


def analyse(ctx: CaseContext) -> CaseFindings:
    settings = ctx.config.liveness
    if not settings.enabled:
        return CaseFindings()
    stored = ctx.evidence.liveness
    if stored is None:
        outcome = LivenessOutcome(Status.NOT_ATTEMPTED, Reason.NO_CHALLENGE, (), 0, 0.0, 0.0,
                                  0.0)
    else:
        outcome = stored.judge(settings, final=True)
    if outcome.status is Status.PASSED:
        return CaseFindings()
    if outcome.status is Status.FAILED:
        why = _why(outcome, settings.response_timeout_s)
        return CaseFindings(flags=(Flag(
            rule_id=RULE_FAILED, severity=Severity.REVIEW,
            message_id=f"Pemeriksaan keaktifan wajah gagal: {why[0]}; {_CHECK[0]}",
            message_en=f"Face liveness check failed: {why[1]}; {_CHECK[1]}",
            evidence=_evidence(outcome)),))
    return CaseFindings(flags=(Flag(
        rule_id=RULE_NOT_DONE, severity=Severity.REVIEW,
        message_id="Pemeriksaan keaktifan wajah tidak diselesaikan (tidak ada jawaban atas "
                   f"tantangan sebelum sesi selesai); {_CHECK[0]}",
        message_en="Face liveness check not completed (the challenge was not answered before "
                   f"the session ended); {_CHECK[1]}",
        evidence=_evidence(outcome)),))

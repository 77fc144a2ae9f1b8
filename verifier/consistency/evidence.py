"""Building flags whose evidence names each value's source."""

from __future__ import annotations

from collections.abc import Iterable

from verifier.consistency.facts import Value
from verifier.consistency.verdict import Flag, Severity


def flag(rule_id: str, severity: Severity, message_id: str, message_en: str,
         values: Iterable[Value] = (), **extra: object) -> Flag:
    """A flag whose evidence holds each compared value under "<source>.<field>" and `extra`
    (scores, thresholds, explanations) under its own keys."""
    evidence = {v.key: v.value for v in values}
    evidence.update({k: str(v) for k, v in extra.items()})
    return Flag(rule_id=rule_id, severity=severity, message_id=message_id,
                message_en=message_en, evidence=evidence)

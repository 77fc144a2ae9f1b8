"""The case analyser for the consistency rules: documents, form and biometric results."""

from __future__ import annotations

from verifier.consistency import (biometric_rules, identity_rules, ktp_rules, minor_rules,
                                  passport_rules)
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.facts import gather_facts

FACT_RULES = identity_rules.RULES + ktp_rules.RULES + passport_rules.RULES + minor_rules.RULES


def analyse(ctx: CaseContext) -> CaseFindings:
    facts = gather_facts(ctx.contents)
    flags = [f for rule in FACT_RULES for f in rule(facts)]
    flags += [f for rule in biometric_rules.RULES for f in rule(ctx.contents)]
    return CaseFindings(flags=tuple(flags))

"""The case rule for the documents: fields compared across the form and the documents (with
the officers' corrections applied, each of which is itself a finding)."""

from __future__ import annotations

from verifier.consistency import (corrections, identity_rules, ktp_rules, minor_rules,
                                  passport_rules)
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.facts import gather_facts

FACT_RULES = (identity_rules.RULES + ktp_rules.RULES + passport_rules.RULES
              + minor_rules.RULES + corrections.RULES)


def analyse(ctx: CaseContext) -> CaseFindings:
    facts = gather_facts(ctx.evidence)
    return CaseFindings(flags=tuple(f for rule in FACT_RULES for f in rule(facts)))

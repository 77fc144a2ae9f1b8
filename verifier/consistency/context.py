"""What a case analyser sees, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verifier.cases.store import CaseContents, CaseStore
from verifier.config import Config
from verifier.consistency.verdict import Flag, Match
from verifier.models import LoadedModels


@dataclass(frozen=True)
class CaseContext:
    contents: CaseContents  # every committed message with its analysis
    store: CaseStore  # for payloads (the accepted capture, document images)
    models: LoadedModels
    config: Config


@dataclass(frozen=True)
class CaseFindings:
    flags: tuple[Flag, ...] = ()
    matches: tuple[Match, ...] = ()


CaseAnalyser = Callable[[CaseContext], CaseFindings]

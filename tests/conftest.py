from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import InProcessVerifier


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[InProcessVerifier]:
    v = InProcessVerifier(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    yield v
    v.stop()

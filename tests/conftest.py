from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import NO_ATTESTATION, InProcessVerifier
from verifier.config import Config, load_config
from verifier.models import LoadedModels, load_models

# The throw-away PostgreSQL server and the case_db_url fixture (SQLite and PostgreSQL).
pytest_plugins = ("tests.postgres_server",)


@pytest.fixture(scope="session")
def config() -> Config:
    """The default configuration (what `verifier serve` runs with no --config), except that
    prints need no signing device: the generated prints tests send come from none
    (tests/test_sbi_provenance.py checks device attestation with the default)."""
    return load_config(**NO_ATTESTATION)


@pytest.fixture(scope="session")
def models(config: Config) -> LoadedModels:
    """Every registered model, verified and loaded once for the whole run."""
    return load_models(config.models_registry)


@pytest.fixture
def verifier(tmp_path: Path) -> Iterator[InProcessVerifier]:
    v = InProcessVerifier(f"sqlite:///{tmp_path / 'cases.sqlite3'}")
    yield v
    v.stop()

"""A verifier that knows one PrecheckService API key, and the metadata that presents it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.harness import InProcessVerifier
from verifier.config import load_config
from verifier.server.api_keys import add_key

Credentials = tuple[tuple[str, str], ...]


@contextmanager
def keyed_verifier(tmp_path: Path, load: bool = True, **sections: dict[str, Any]
                   ) -> Iterator[tuple[InProcessVerifier, Credentials]]:
    """An in-process verifier on a SQLite file in `tmp_path`, configured with `sections`
    (e.g. server={...}) and an API key file holding one key, "portal"; stopped on exit."""
    keys = tmp_path / "precheck-keys.txt"
    key = add_key(keys, "portal")
    url = f"sqlite:///{tmp_path / 'cases.sqlite3'}"
    precheck = {"api_keys_file": str(keys), **sections.pop("precheck", {})}
    config = load_config(store={"url": url}, precheck=precheck, **sections)
    verifier = InProcessVerifier(url, config, load=load)
    try:
        yield verifier, (("x-api-key", key),)
    finally:
        verifier.stop()

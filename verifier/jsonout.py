"""`--json PATH` for every command that reports something: a file, or `-` for standard output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def write_json(target: str | None, data: Any) -> None:
    if target is None:
        return
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # readers never see a half-written report

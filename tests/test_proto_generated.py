"""The committed generated code is exactly what the .proto files produce."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

from tools.gen_proto import PROTO_DIR, ROOT, generate

GENERATED = ROOT / "lebong_contract" / "api" / "v1"


def test_generated_code_matches_protos(tmp_path: Path) -> None:
    generate(tmp_path)
    fresh = tmp_path / "lebong_contract" / "api" / "v1"
    names = sorted(p.name for p in fresh.iterdir())
    committed = sorted(p.name for p in GENERATED.iterdir()
                       if p.name != "__init__.py" and p.is_file())
    assert names == committed, "generated file set differs: run `make proto`"
    stale = [n for n in names if not filecmp.cmp(fresh / n, GENERATED / n, shallow=False)]
    assert not stale, f"stale generated code {stale}: run `make proto`"


def test_every_field_and_enum_value_is_commented() -> None:
    for proto in PROTO_DIR.rglob("*.proto"):
        lines = proto.read_text().splitlines()
        for i, line in enumerate(lines):
            declaration = re.match(r"\s*(message|service|enum|rpc|oneof)\s", line)
            field = re.match(r"\s*(repeated\s+)?[\w.<>, ]+\s+\w+\s*=\s*\d+;|\s*[A-Z0-9_]+\s*=\s*\d+;", line)
            if declaration or field:
                commented = lines[i - 1].strip().startswith("//") or "//" in line
                assert commented, f"{proto.name}:{i + 1} uncommented: {line.strip()}"
            m = re.match(r"\s*(\w+) = 0;", line)
            if m:
                assert m.group(1).endswith("_UNSPECIFIED"), f"{proto.name}:{i + 1} zero value"

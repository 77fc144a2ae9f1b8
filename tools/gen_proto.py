"""Generate the Python code for proto/ into lebong_contract/api/v1/ (or another folder, for
the drift test).

The proto files keep their paths and package (`verifier.api.v1`: the wire names), from which
protoc names the Python modules `verifier.api.v1.*`; the generated code lives in the contract
distribution instead, so its imports and module names are moved to `lebong_contract.api.v1`.

Run `make proto` after editing a .proto file; tests/test_proto_generated.py fails when the
committed code differs from what this produces.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import google.rpc.status_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "proto"
# google/rpc/status.proto ships with googleapis-common-protos, next to its generated module.
GOOGLEAPIS_DIR = Path(google.rpc.status_pb2.__file__).resolve().parents[2]
PROTOC_PACKAGE = "verifier/api/v1"  # where protoc writes the modules (the proto files' folder)
PACKAGE = "lebong_contract.api.v1"  # where they live
# A generated module's dotted name (wire names such as verifier.api.v1.CaptureService never
# end in _pb2, and the serialized descriptors name files with slashes).
_MODULE_NAME = re.compile(r"\bverifier\.api\.v1(?=\.\w+_pb2\b| import )")


def proto_files() -> list[Path]:
    return sorted(PROTO_DIR.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    """Writes the modules into out_dir/lebong_contract/api/v1/."""
    target = out_dir.joinpath(*PACKAGE.split("."))
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{GOOGLEAPIS_DIR}",
            f"-I{Path(protoc.__file__).parent / '_proto'}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *[str(p.relative_to(PROTO_DIR)) for p in proto_files()],
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        for module in sorted((Path(tmp) / PROTOC_PACKAGE).iterdir()):
            text = _MODULE_NAME.sub(PACKAGE, module.read_text(encoding="utf-8"))
            (target / module.name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)

"""Document scans given on the command line as KIND=PATH."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capture_station.errors import DocumentError
from lebong_contract.api.v1 import types_pb2

DOCUMENT_KINDS: dict[str, int] = {
    "ktp": types_pb2.DOCUMENT_KIND_KTP,
    "akta_kelahiran": types_pb2.DOCUMENT_KIND_AKTA_KELAHIRAN,
    "ijazah": types_pb2.DOCUMENT_KIND_IJAZAH,
    "buku_nikah": types_pb2.DOCUMENT_KIND_BUKU_NIKAH,
    "kartu_keluarga": types_pb2.DOCUMENT_KIND_KARTU_KELUARGA,
    "old_passport": types_pb2.DOCUMENT_KIND_OLD_PASSPORT,
    "uploaded_photo": types_pb2.DOCUMENT_KIND_UPLOADED_PHOTO,
}


@dataclass(frozen=True, eq=False)
class DocumentScan:
    """One document image to send."""

    kind: int  # types_pb2.DocumentKind
    image: bytes
    source: str  # where it came from, for messages

    @property
    def kind_name(self) -> str:
        return next(name for name, value in DOCUMENT_KINDS.items() if value == self.kind)


def parse_document_arg(arg: str) -> DocumentScan:
    """`ktp=scans/ktp.jpg` -> a DocumentScan with the file read; `DocumentError` otherwise."""
    kind, sep, path = arg.partition("=")
    kind = kind.strip().lower().replace("-", "_")
    if not sep or not path:
        raise DocumentError(f"document {arg!r} must be written KIND=PATH")
    if kind not in DOCUMENT_KINDS:
        raise DocumentError(f"unknown document kind {kind!r}; known: "
                            + ", ".join(DOCUMENT_KINDS))
    try:
        image = Path(path).read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {kind} scan {path!r}: {exc}") from exc
    if not image:
        raise DocumentError(f"{kind} scan {path!r} is empty")
    return DocumentScan(kind=DOCUMENT_KINDS[kind], image=image, source=path)

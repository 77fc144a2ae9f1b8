"""Which evidence keys a database still needs: every sealed value, counted by its key.

Sealed values are recognised by their header (`LVE1` in binary columns, its base64 in text
columns) in every table, so case data and the galleries are covered alike and a new sealed
column needs no change here. It reads one short prefix per value: a whole-database scan for
`verifier keys retire`, not for start-up.
"""

from __future__ import annotations

import base64
from collections import Counter

from sqlalchemy import Engine, LargeBinary, MetaData, String, func, select

from verifier.cases.crypto import MAGIC, EvidenceKeyError, sealed_key_id

# base64 of the 3 bytes "LVE": every sealed text value starts with it.
_TEXT_PREFIX = base64.b64encode(MAGIC[:3]).decode("ascii")
# The longest header: magic, length byte, a 64-character key id.
_HEADER_BYTES = len(MAGIC) + 1 + 64
_HEADER_CHARS = 4 * ((_HEADER_BYTES + 2) // 3)


def _key_id(value: bytes | str) -> str | None:
    try:
        if isinstance(value, str):
            if not value.startswith(_TEXT_PREFIX):
                return None
            # Whole 4-character groups only: the cut may fall inside the key id's tail.
            return sealed_key_id(base64.b64decode(value[:len(value) // 4 * 4]))
        return sealed_key_id(value) if value.startswith(MAGIC) else None
    except (EvidenceKeyError, ValueError):
        return None


def key_ids_in_use(engine: Engine) -> Counter[str]:
    """Sealed values per key id, over every binary and text column of every table."""
    meta = MetaData()
    meta.reflect(engine)
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, LargeBinary):
                    length = _HEADER_BYTES
                elif isinstance(column.type, String):  # Text and VARCHAR
                    length = _HEADER_CHARS
                else:
                    continue
                query = select(func.substr(column, 1, length)).where(column.is_not(None))
                for (value,) in conn.execution_options(yield_per=2000).execute(query):
                    key_id = _key_id(bytes(value) if isinstance(value, memoryview) else value)
                    if key_id is not None:
                        counts[key_id] += 1
    return counts

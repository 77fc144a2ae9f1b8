"""Duplicate-applicant search over fingerprints, persisted in table `fingerprint_gallery`:
an index shortlist (verifier.fingerprint.index) in front of exact Bozorth3.

Memory holds only the index vectors (per finger position) of every enrolled finger; a search
shortlists whole cases by the fingers they share with the probe, then reads the sealed
templates of the shortlisted cases' same-position fingers and compares them with Bozorth3.
No case is read from the case store. The gallery keeps the NIK only as a keyed hash
(verifier.galleries.nik): `same_nik` compares a hit's hash with a NIK.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from verifier.cases.crypto import KeyRing
from lebong_contract.errors import InvalidInput
from verifier.fingerprint.extraction import MinutiaeExtractor
from verifier.fingerprint.index import CaseIndex, IndexParams, template_index_vector
from verifier.galleries.nik import NikHasher
from verifier.galleries.rows import delete_rows, follower_for, gallery_write, reseal_rows
from verifier.galleries.schema import context, fingerprint_gallery

_TABLE = fingerprint_gallery.name
FINGER_POSITIONS = range(1, 11)  # ISO/IEC 19794-2: 1 right thumb .. 10 left little finger


@dataclass(frozen=True)
class FingerprintGalleryConfig:
    """How many enrolled cases a search compares exactly (bench/REPORT-fingerprint-index.md
    measures what each size finds). Every shortlisted case costs one Bozorth3 comparison
    (2-4 ms) per finger it shares with the probe."""

    shortlist_cases: int = 50  # probes of two or more fingers
    # One finger carries far less evidence than ten, so its shortlist is longer.
    shortlist_cases_single_finger: int = 200
    # Re-ranking: the `full_rerank_cases` best-ranked cases are compared on every shared
    # finger (the index ranked every planted duplicate first, bench/REPORT-fingerprint-index.md).
    # The others are first compared on their `first_pass_fingers` most index-similar fingers,
    # and on the rest only when one of those scores at least `first_pass_floor` (under the
    # match threshold). Most shortlisted cases are strangers, so this cuts a Finish's
    # comparisons about threefold.
    full_rerank_cases: int = 2
    first_pass_fingers: int = 2
    first_pass_floor: int = 20


@dataclass(frozen=True)
class FingerHit:
    """One Bozorth3 comparison of a probe finger with the same position of a shortlisted
    case. No threshold is applied here: the rules decide what a score means."""

    position: int
    case_id: str
    nik_hash: str  # the enrolled case's NIK, keyed hash (FingerprintGallery.same_nik)
    score: int  # Bozorth3


def _check_position(position: int) -> int:
    if position not in FINGER_POSITIONS:
        raise InvalidInput(f"finger position {position} is not an ISO position 1-10",
                           reason="FINGER_POSITION_INVALID")
    return position


class FingerprintGallery:
    def __init__(self, engine: Engine, keys: KeyRing, extractor: MinutiaeExtractor,
                 config: FingerprintGalleryConfig = FingerprintGalleryConfig(),
                 params: IndexParams = IndexParams()) -> None:
        self.engine = engine
        self.keys = keys
        self.config = config
        self._extractor = extractor
        self._params = params
        self._lock = threading.Lock()
        self._index = CaseIndex(params)
        self._follower = follower_for(engine, fingerprint_gallery)

    def _seal(self, value: bytes, column: str, case_id: str, position: int) -> bytes:
        return self.keys.seal(value, context(_TABLE, column, case_id, position))

    def _open(self, value: bytes, column: str, case_id: str, position: int) -> bytes:
        return self.keys.open(value, context(_TABLE, column, case_id, position))

    def enrol_case(self, case_id: str, nik: str, templates: Mapping[int, bytes]) -> int:
        """Enrol a case's fingers (position -> ISO/IEC 19794-2 record), replacing whatever
        the case had enrolled; returns how many fingers are enrolled."""
        vectors = {_check_position(p): template_index_vector(t, self._params)
                   for p, t in templates.items()}
        nik_hash = NikHasher(self.keys).hash(nik)
        now = datetime.now(timezone.utc)
        with gallery_write(fingerprint_gallery), self.engine.begin() as db:
            delete_rows(db, fingerprint_gallery, fingerprint_gallery.c.case_id == case_id)
            if vectors:
                db.execute(fingerprint_gallery.insert(), [dict(
                    case_id=case_id, position=p, nik_hash=nik_hash,
                    nik=self._seal(nik.strip().encode(), "nik", case_id, p),
                    template=self._seal(templates[p], "template", case_id, p),
                    index_vector=self._seal(v.astype("<f4").tobytes(), "index_vector",
                                            case_id, p),
                    index_version=self._params.version, enrolled_at=now)
                    for p, v in sorted(vectors.items())])
        return len(vectors)

    def _catch_up(self) -> None:
        """Drop rows removed or replaced elsewhere and load rows other processes added."""
        t = fingerprint_gallery
        with self.engine.connect() as db:
            gone, to_load = self._follower.changes(db, self._index.keys())
            rows = db.execute(select(t.c.id, t.c.case_id, t.c.position, t.c.index_vector,
                                     t.c.index_version, t.c.template)
                              .where(to_load).order_by(t.c.id)).all()
        if gone.size:
            self._index.remove_keys(gone)
        self._index.add((r.id, r.case_id, r.position, self._vector(r)) for r in rows)
        self._follower.looked(self._index.keys())

    def _vector(self, row: Any) -> np.ndarray:
        if row.index_version != self._params.version:  # enrolled under other index params
            return template_index_vector(
                self._open(row.template, "template", row.case_id, row.position), self._params)
        return np.frombuffer(self._open(row.index_vector, "index_vector", row.case_id,
                                        row.position), dtype="<f4")

    def load(self) -> None:
        """Load every enrolled row now (at start-up, before the server says SERVING), so
        that the first search does not pay for opening the whole gallery."""
        with self._lock:
            self._catch_up()

    def search_case(self, probes: Mapping[int, bytes], exclude_case_id: str | None = None
                    ) -> list[FingerHit]:
        """Bozorth3 scores of the probe's fingers (position -> ISO/IEC 19794-2 record) against
        the same positions of the shortlisted cases (all of them for a case that passes the
        first pass), highest score first."""
        vectors = {_check_position(p): template_index_vector(t, self._params)
                   for p, t in probes.items()}
        top_k = (self.config.shortlist_cases if len(vectors) > 1
                 else self.config.shortlist_cases_single_finger)
        with self._lock:
            self._catch_up()
            shortlist = self._index.shortlist(vectors, top_k, exclude_case_id)
        if not shortlist:
            return []
        t = fingerprint_gallery
        with self.engine.connect() as db:
            rows = db.execute(select(t.c.case_id, t.c.position, t.c.nik_hash, t.c.template)
                              .where(t.c.case_id.in_([c.case_id for c in shortlist]),
                                     t.c.position.in_(list(vectors)))).all()
        probe_minutiae = {p: self._extractor.load_template(probes[p]) for p in vectors}
        enrolled = {(r.case_id, r.position): r for r in rows}

        def compare(case_id: str, position: int) -> FingerHit:
            r = enrolled[(case_id, position)]
            return FingerHit(position=position, case_id=case_id, nik_hash=r.nik_hash,
                             score=int(probe_minutiae[position].compare(
                                 self._extractor.load_template(self._open(
                                     r.template, "template", case_id, position)))))

        hits = []
        for n, case in enumerate(shortlist):
            positions = [p for p in case.positions if (case.case_id, p) in enrolled]
            if n < self.config.full_rerank_cases:
                hits += [compare(case.case_id, p) for p in positions]
                continue
            first = [compare(case.case_id, p) for p in positions[:self.config.first_pass_fingers]]
            hits += first
            if any(h.score >= self.config.first_pass_floor for h in first):
                hits += [compare(case.case_id, p)
                         for p in positions[self.config.first_pass_fingers:]]
        rank = {c.case_id: n for n, c in enumerate(shortlist)}
        hits.sort(key=lambda h: (-h.score, rank[h.case_id], h.position))
        return hits

    def same_nik(self, nik_hash: str, nik: str) -> bool:
        """Whether a hit's `nik_hash` is this NIK's."""
        return NikHasher(self.keys).matches(nik_hash, nik)

    def templates_of_nik(self, nik: str) -> dict[str, dict[int, bytes]]:
        """Case id -> position -> template of every case enrolled under `nik` (a renewal's
        1:1 comparison with the applicant's earlier fingers)."""
        t = fingerprint_gallery
        with self.engine.connect() as db:
            rows = db.execute(select(t.c.case_id, t.c.position, t.c.template)
                              .where(t.c.nik_hash.in_(NikHasher(self.keys).lookups(nik)))
                              .order_by(t.c.id)).all()
        found: dict[str, dict[int, bytes]] = {}
        for r in rows:
            found.setdefault(r.case_id, {})[r.position] = self._open(
                r.template, "template", r.case_id, r.position)
        return found

    def remove_case(self, case_id: str) -> int:
        with self.engine.begin() as db:
            return delete_rows(db, fingerprint_gallery,
                               fingerprint_gallery.c.case_id == case_id)

    def reencrypt(self, new_keys: KeyRing) -> int:
        """Re-seal every row not sealed with `new_keys`' active key and re-hash its NIK (key
        rotation); returns how many rows changed."""
        with self._lock:
            changed = reencrypt_fingerprints(self.engine, new_keys)
            self.keys = new_keys
        return changed

    def __len__(self) -> int:
        with self.engine.connect() as db:
            return int(db.scalar(select(func.count()).select_from(fingerprint_gallery)) or 0)


def reencrypt_fingerprints(engine: Engine, new_keys: KeyRing) -> int:
    """`FingerprintGallery.reencrypt` without a gallery object (no NBIS needed)."""
    return reseal_rows(engine, fingerprint_gallery, "position",
                       ("nik", "template", "index_vector"), new_keys)


_galleries: weakref.WeakKeyDictionary[Engine, FingerprintGallery] = weakref.WeakKeyDictionary()
_galleries_lock = threading.Lock()


def gallery_for(engine: Engine, keys: KeyRing, extractor: MinutiaeExtractor,
                config: FingerprintGalleryConfig = FingerprintGalleryConfig()
                ) -> FingerprintGallery:
    """The one fingerprint gallery object of a database (one in-memory index per process);
    the first caller's keys, extractor and config stay."""
    with _galleries_lock:
        gallery = _galleries.get(engine)
        if gallery is None:
            gallery = _galleries[engine] = FingerprintGallery(engine, keys, extractor, config)
        return gallery

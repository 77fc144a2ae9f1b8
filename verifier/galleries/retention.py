"""Retention for the galleries: a case whose evidence is purged leaves both galleries too
(its face embedding and fingerprint templates are evidence). Called by
`verifier retention purge` after the case store's own purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from verifier.cases.schema import CaseRow
from verifier.galleries.rows import delete_rows
from verifier.galleries.schema import face_gallery, fingerprint_gallery


@dataclass(frozen=True)
class GalleryPurge:
    face_entries: int
    fingerprint_entries: int


def purge_galleries(engine: Engine, cutoff: datetime, dry_run: bool = False) -> GalleryPurge:
    """Remove (or with `dry_run` count) the gallery rows of every case started before
    `cutoff` or already purged: a purge interrupted between the store and here is finished
    by the next run."""
    purged = select(CaseRow.id).where(or_(CaseRow.started_at < cutoff,
                                          CaseRow.evidence_purged_at.is_not(None)))
    counts = []
    with engine.begin() as db:
        for table in (face_gallery, fingerprint_gallery):
            where = table.c.case_id.in_(purged)
            if dry_run:
                counts.append(int(db.scalar(select(func.count()).select_from(table)
                                            .where(where)) or 0))
            else:
                counts.append(delete_rows(db, table, where))
    return GalleryPurge(face_entries=counts[0], fingerprint_entries=counts[1])

"""1:N fingerprint search behind the `Gallery` protocol: exact Bozorth3 comparison of a probe
template with every enrolled one.

Exact search costs one Bozorth3 comparison (2-4 ms) per enrolled finger, so it suits a
regency office's history (thousands of fingers), not a national register; an indexed matcher
can replace this class behind the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from verifier.cases.store import CaseStore
from verifier.fingerprint.extraction import MinutiaeExtractor
from verifier.fingerprint.template import check_template, template_from_text
from verifier.gallery import Candidate, Enrolment


def finger_label(position: int) -> str:
    return f"finger:{position}"


class FingerprintGallery:
    """Implements `verifier.gallery.Gallery[bytes]`; templates are ISO/IEC 19794-2 bytes."""

    def __init__(self, extractor: MinutiaeExtractor) -> None:
        self._extractor = extractor
        self._entries: dict[tuple[str, str], tuple[Enrolment, Any]] = {}

    def enrol(self, enrolment: Enrolment, template: bytes) -> None:
        minutiae = self._extractor.load_template(check_template(template))
        self._entries[(enrolment.case_id, enrolment.label)] = (enrolment, minutiae)

    def search(self, probe: bytes, top_k: int = 5) -> list[Candidate]:
        minutiae = self._extractor.load_template(check_template(probe))
        return self.search_minutiae(minutiae, top_k)

    def search_minutiae(self, probe: Any, top_k: int = 5) -> list[Candidate]:
        """As `search`, for a probe already loaded (saves re-parsing inside a case)."""
        scored = [Candidate(enrolment=enrolment, score=float(probe.compare(minutiae)))
                  for enrolment, minutiae in self._entries.values()]
        scored.sort(key=lambda c: (-c.score, c.enrolment.case_id, c.enrolment.label))
        return scored[:top_k]

    def remove_case(self, case_id: str) -> int:
        keys = [key for key in self._entries if key[0] == case_id]
        for key in keys:
            del self._entries[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._entries)


def stored_fingerprints(store: CaseStore, exclude_case_id: str | None = None
                        ) -> Iterator[tuple[Enrolment, bytes]]:
    """Templates of every finished case in the store (earlier applicants), read through the
    store's decrypting `contents`; a purged case has no templates left and yields none."""
    for case_id in store.finished_case_ids(exclude=exclude_case_id):
        contents = store.contents(case_id)
        nik = str(contents.application.get("nik", ""))
        for m in contents.messages:
            record = (m.result or {}).get("record") or {}
            text = record.get("template_iso19794_2_b64")
            if m.kind != "fingerprint" or m.error is not None or not text or not m.subtype:
                continue
            yield (Enrolment(case_id=case_id, nik=nik, label=finger_label(int(m.subtype))),
                   template_from_text(text))


def gallery_from_store(store: CaseStore, extractor: MinutiaeExtractor,
                       exclude_case_id: str | None = None) -> FingerprintGallery:
    gallery = FingerprintGallery(extractor)
    for enrolment, template in stored_fingerprints(store, exclude_case_id):
        gallery.enrol(enrolment, template)  # a retried finger replaces the earlier one
    return gallery

"""The face rules of a case: the accepted live capture against the photo on each identity
document, and against earlier applicants (duplicate identities).

Every comparison becomes a `Match` at the configured operating point. A REVIEW flag is raised
when the live face does not match a document photo (`face.mismatch_<reference>`), when a
document holds no findable face, when the same face was enrolled under another NIK
(`face.duplicate_identity`), and when this NIK was enrolled with a different face
(`face.nik_face_mismatch`). Nothing here rejects an applicant: an officer looks at the two
face crops, which each flag names (message sequence and box in that image) so the review page
can cut them from the stored images.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.cases.store import CaseStore
from verifier.config import Config
from verifier.consistency.context import CaseContext, CaseFindings
from verifier.consistency.verdict import Flag, Match, Severity
from verifier.errors import InvalidInput, SessionStateError
from verifier.face.document_faces import FoundFace, find_face
from verifier.face.gallery import gallery_for
from verifier.face.matching import FaceDecision, FaceMatcher, face_matcher
from verifier.gallery import Enrolment
from verifier.imaging import decode_image
from verifier.models import LoadedModels

PROBE = "live_capture"
# Document kind (the proto enum name without its prefix) -> the reference's name in results.
REFERENCES = {"KTP": "ktp_photo", "OLD_PASSPORT": "old_passport_photo",
              "UPLOADED_PHOTO": "uploaded_photo"}
_NAMES_ID = {"ktp_photo": "foto KTP", "old_passport_photo": "foto paspor lama",
             "uploaded_photo": "foto unggahan"}
_NAMES_EN = {"ktp_photo": "KTP photo", "old_passport_photo": "old passport photo",
             "uploaded_photo": "uploaded photo"}
GALLERY_LABEL = "face"


@dataclass(frozen=True)
class LocatedFace:
    """A face found in one stored message of a case."""

    sequence: int
    found: FoundFace

    def crop_ref(self, case_id: str) -> str:
        left, top, right, bottom = self.found.box_in_source_px()
        return f"case:{case_id}/message:{self.sequence}/box:{left},{top},{right},{bottom}"


def _face_in_message(store: CaseStore, case_id: str, sequence: int, models: LoadedModels,
                     config: Config, live: bool) -> LocatedFace | None:
    data = store.payload(case_id, sequence)
    if data is None:
        raise SessionStateError(f"message {sequence} of case {case_id} has no stored image")
    image = decode_image(data, config.imaging)
    # The live capture already passed HOG framing; the CNN is for document photos only.
    found = find_face(image.rgb, models, config.face, use_cnn=False if live else None)
    return LocatedFace(sequence, found) if found is not None else None


def live_face(store: CaseStore, case_id: str, capture_sequence: int | None,
              models: LoadedModels, config: Config) -> LocatedFace | None:
    if capture_sequence is None:
        return None
    return _face_in_message(store, case_id, capture_sequence, models, config, live=True)


def _evidence(case_id: str, live: LocatedFace, other_ref: str, decision: FaceDecision,
              other_quality: float | None, config: Config) -> dict[str, str]:
    evidence = {"probe_crop": live.crop_ref(case_id), "reference_crop": other_ref,
                "distance": f"{decision.distance:.4f}", "score": f"{decision.score:.4f}",
                "threshold": f"{decision.threshold:.4f}",
                "operating_point": decision.operating_point, "model": decision.model,
                "probe_quality": f"{live.found.template.quality.score:.0f}",
                "thresholds_file": str(config.face.thresholds_path.name)}
    if other_quality is not None:
        evidence["reference_quality"] = f"{other_quality:.0f}"
    return evidence


def _document_findings(ctx: CaseContext, matcher: FaceMatcher, live: LocatedFace
                       ) -> tuple[list[Flag], list[Match]]:
    case_id, config = ctx.contents.case_id, ctx.config
    latest: dict[str, int] = {}  # a rescanned document replaces the earlier scan
    for m in ctx.contents.messages:
        if m.kind == "document" and m.subtype in REFERENCES and m.error is None \
                and m.has_payload:
            latest[REFERENCES[m.subtype]] = m.sequence
    flags, matches = [], []
    for ref, sequence in sorted(latest.items()):
        doc = _face_in_message(ctx.store, case_id, sequence, ctx.models, config, live=False)
        if doc is None:
            # INFO, not REVIEW: whether the scan is a readable document at all is the
            # document reader's rule; this one only says the comparison could not run.
            flags.append(Flag(
                rule_id=f"face.no_face_{ref}", severity=Severity.INFO,
                message_id=f"Wajah pada {_NAMES_ID[ref]} tidak ditemukan; bandingkan manual",
                message_en=f"No face found on the {_NAMES_EN[ref]}; compare by eye",
                evidence={"document": f"case:{case_id}/message:{sequence}"}))
            continue
        decision = matcher.decide(live.found.template.embedding,
                                  doc.found.template.embedding, config.face.operating_point)
        matches.append(decision.to_match(PROBE, ref))
        if decision.match:
            continue
        quality = min(live.found.template.quality.score, doc.found.template.quality.score)
        poor = quality < config.face.min_quality
        evidence = _evidence(case_id, live, doc.crop_ref(case_id), decision,
                             doc.found.template.quality.score, config)
        evidence["reference_detector"] = doc.found.template.detector
        flags.append(Flag(
            rule_id=f"face.mismatch_{ref}", severity=Severity.REVIEW,
            message_id=(f"Wajah langsung tidak cocok dengan {_NAMES_ID[ref]}"
                        + (" (kualitas foto rendah)" if poor else "")
                        + "; periksa kedua potongan wajah"),
            message_en=(f"The live face does not match the {_NAMES_EN[ref]}"
                        + (" (poor photo quality)" if poor else "")
                        + "; compare both face crops"),
            evidence=evidence))
    return flags, matches


def _gallery_findings(ctx: CaseContext, matcher: FaceMatcher, live: LocatedFace
                      ) -> tuple[list[Flag], list[Match]]:
    case_id, config = ctx.contents.case_id, ctx.config
    nik = str(ctx.contents.application.get("nik", ""))
    gallery = gallery_for(ctx.store)
    embedding = live.found.template.embedding
    flags, matches = [], []
    point = config.face.gallery_operating_point
    for candidate in gallery.search(embedding, config.face.gallery_top_k):
        other = candidate.enrolment
        if other.case_id == case_id or (nik and other.nik == nik):
            continue  # same person re-applying under the same NIK is the normal case
        decision = matcher.decide_distance(1.0 - candidate.score, point)
        if not decision.match:
            continue
        matches.append(decision.to_match(PROBE, f"gallery:{other.case_id}"))
        flags.append(Flag(
            rule_id="face.duplicate_identity", severity=Severity.REVIEW,
            message_id=(f"Wajah ini sudah terdaftar dengan NIK lain ({other.nik}, kasus "
                        f"{other.case_id}); periksa identitas ganda"),
            message_en=(f"This face is enrolled under another NIK ({other.nik}, case "
                        f"{other.case_id}); check for a duplicate identity"),
            evidence=_evidence(case_id, live, f"gallery:{other.case_id}/{other.label}",
                               decision, None, config) | {"other_nik": other.nik}))
    if nik:
        for other, template in gallery.templates_of_nik(nik):
            if other.case_id == case_id:
                continue
            decision = matcher.decide(embedding, template, config.face.operating_point)
            matches.append(decision.to_match(PROBE, f"gallery:{other.case_id}"))
            if not decision.match:
                flags.append(Flag(
                    rule_id="face.nik_face_mismatch", severity=Severity.REVIEW,
                    message_id=(f"NIK {nik} sudah terdaftar dengan wajah yang berbeda (kasus "
                                f"{other.case_id}); periksa identitas"),
                    message_en=(f"NIK {nik} was enrolled with a different face (case "
                                f"{other.case_id}); check the identity"),
                    evidence=_evidence(case_id, live, f"gallery:{other.case_id}/{other.label}",
                                       decision, None, config)))
    return flags, matches


def analyse(ctx: CaseContext) -> CaseFindings:
    """Case analyser (see the module docstring)."""
    contents = ctx.contents
    if contents.capture_sequence is None:
        return CaseFindings()  # session_rules already flags the missing capture
    matcher = face_matcher(ctx.models, ctx.config.face)
    live = live_face(ctx.store, contents.case_id, contents.capture_sequence, ctx.models,
                     ctx.config)
    if live is None:
        return CaseFindings(flags=(Flag(
            rule_id="face.no_face_live_capture", severity=Severity.REVIEW,
            message_id="Wajah pada foto langsung tidak ditemukan untuk pencocokan",
            message_en="No face found on the accepted live capture for matching",
            evidence={"capture": f"case:{contents.case_id}/message:{contents.capture_sequence}"}),))
    doc_flags, doc_matches = _document_findings(ctx, matcher, live)
    gal_flags, gal_matches = _gallery_findings(ctx, matcher, live)
    return CaseFindings(flags=tuple(doc_flags + gal_flags),
                        matches=tuple(doc_matches + gal_matches))


def enrol_case(case_id: str, store: CaseStore, models: LoadedModels, config: Config
               ) -> Enrolment:
    """Add an approved case's live face to the duplicate-identity gallery (call it when a
    reviewer approves the case; enrolling the same case again replaces its face).

    Raises SessionStateError when the case has no accepted capture, InvalidInput when no
    face can be found on it.
    """
    contents = store.contents(case_id)
    if contents.capture_sequence is None:
        raise SessionStateError(f"case {case_id} has no accepted live capture to enrol",
                                metadata={"case_id": case_id})
    nik = str(contents.application.get("nik", ""))
    if not nik:
        raise InvalidInput(f"case {case_id} has no NIK to enrol the face under",
                           metadata={"case_id": case_id})
    live = live_face(store, case_id, contents.capture_sequence, models, config)
    if live is None:
        raise InvalidInput(f"no face found on the live capture of case {case_id}",
                           metadata={"case_id": case_id})
    enrolment = Enrolment(case_id=case_id, nik=nik, label=GALLERY_LABEL)
    gallery_for(store).enrol(enrolment, live.found.template.embedding)
    return enrolment

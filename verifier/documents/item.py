"""A document image in a counter session -> its analysis: the fields read, checks an officer
can act on (read or not, NIK valid and consistent with the card, MRZ check digits), and a
record with the document's position and the photo's box for the face-matching rules."""

from __future__ import annotations

from verifier.config import Config, DocumentsConfig
from verifier.documents.akta import AKTA_FIELDS
from verifier.documents.ktp import KTP_FIELDS
from verifier.documents.passport import PASSPORT_FIELDS
from verifier.documents.reader import DocumentReading, read_document, reader_kind
from verifier.imaging import DecodedImage
from verifier.item_analysis import ItemAnalysis
from verifier.models import LoadedModels
from verifier.photo.result import Outcome, RequirementResult

TEXT_DETECTOR = "text_detector_ppocr"
TEXT_RECOGNISER = "text_recogniser_ppocr"
_EXPECTED_FIELDS = {"ktp": KTP_FIELDS, "akta": AKTA_FIELDS, "passport": PASSPORT_FIELDS}
_NIK_PARTS_EN = {"birth_date": "birth date", "sex": "sex"}
_NIK_PARTS_ID = {"birth_date": "tanggal lahir", "sex": "jenis kelamin"}


def _check(requirement: str, passed: bool | None, value: float, unit: str, threshold: float,
           message_id: str, message_en: str) -> RequirementResult:
    outcome = Outcome.UNKNOWN if passed is None else (Outcome.PASS if passed else Outcome.FAIL)
    score = 50.0 if passed is None else (100.0 if passed else 0.0)
    return RequirementResult(requirement=requirement, outcome=outcome, value=value, unit=unit,
                             score=score, threshold=threshold, message_id=message_id,
                             message_en=message_en)


def _checks(reading: DocumentReading, settings: DocumentsConfig) -> list[RequirementResult]:
    expected = _EXPECTED_FIELDS[reading.kind]
    read_share = len(reading.fields) / len(expected)
    missing = [n for n in expected if reading.value(n) is None]
    checks = [_check(
        "document_read", read_share >= settings.min_fields_read_share, round(read_share, 3),
        "share of fields", settings.min_fields_read_share,
        "Dokumen terbaca" if not missing else
        f"Kolom tidak terbaca: {', '.join(missing)}; ambil foto ulang bila perlu",
        "Document read" if not missing else
        f"Fields not read: {', '.join(missing)}; retake the photo if needed")]
    doubtful = [f.name for f in reading.fields if f.confidence < settings.min_field_confidence]
    checks.append(_check(
        "fields_confident", not doubtful, float(len(doubtful)), "fields below threshold",
        settings.min_field_confidence,
        "Semua kolom terbaca jelas" if not doubtful else
        f"Periksa manual: {', '.join(doubtful)}",
        "All fields read clearly" if not doubtful else
        f"Check by eye: {', '.join(doubtful)}"))
    if reading.kind == "ktp":
        info = reading.nik
        checks.append(_check(
            "nik_valid", None if info is None else info.valid,
            0.0 if info is None else float(len(info.problems)), "problems", 0.0,
            "NIK tidak terbaca" if info is None else
            ("NIK valid" if info.valid else f"NIK tidak valid: {'; '.join(info.problems)}"),
            "NIK not read" if info is None else
            ("NIK valid" if info.valid else f"NIK invalid: {'; '.join(info.problems)}")))
        # Only birth date and sex must agree: the region digits are where the NIK was first
        # issued and stay when the holder moves (and Lebong was split from Rejang Lebong), so
        # a region difference is recorded, not flagged.
        personal = {k: ok for k, ok in reading.nik_agreement.items()
                    if k in ("birth_date", "sex")}
        disagree = [k for k, ok in personal.items() if not ok]
        checks.append(_check(
            "nik_matches_card", None if not personal else not disagree,
            float(len(disagree)), "parts disagreeing", 0.0,
            "NIK sesuai dengan isi kartu" if not disagree else
            f"NIK tidak sesuai: {', '.join(_NIK_PARTS_ID[k] for k in disagree)}",
            "NIK agrees with the card" if not disagree else
            f"NIK disagrees with the card's {', '.join(_NIK_PARTS_EN[k] for k in disagree)}"))
    if reading.kind == "passport":
        if not reading.mrz_checks:
            checks.append(_check("mrz_read", False, 0.0, "lines", 2.0, "MRZ tidak terbaca",
                                 "Machine-readable zone not read"))
        for c in reading.mrz_checks:
            checks.append(_check(
                f"mrz_check_{c.name}", c.ok, float(c.printed == c.expected), "match", 1.0,
                f"Digit pemeriksa {c.name} {'benar' if c.ok else 'salah'} "
                f"(tercetak {c.printed}, dihitung {c.expected})",
                f"{c.name} check digit {'correct' if c.ok else 'wrong'} "
                f"(printed {c.printed}, computed {c.expected})"))
    return checks


def _record(reading: DocumentReading) -> dict[str, object]:
    record: dict[str, object] = {
        "reader_kind": reading.kind,
        "document_found": reading.rectified.found,
        "document_quad_px": [list(p) for p in reading.rectified.quad_px],
        "rectified_size_px": [int(reading.rectified.image.shape[1]),
                              int(reading.rectified.image.shape[0])],
        "portrait_box_px": list(reading.portrait_box_px) if reading.portrait_box_px else None,
        "elapsed_ms": round(reading.elapsed_ms, 1),
    }
    if reading.nik is not None:
        info = reading.nik
        record["nik"] = {
            "valid": info.valid, "problems": list(info.problems),
            "province_code": info.province_code, "province_name": info.province_name,
            "regency_code": info.regency_code, "regency_name": info.regency_name,
            "district_code": info.district_code,
            "birth_date": info.birth_date.isoformat() if info.birth_date else None,
            "sex": info.sex, "serial": info.serial, "agreement": reading.nik_agreement}
    if reading.mrz_format is not None:
        record["mrz"] = {"format": reading.mrz_format,
                         "checks": {c.name: c.ok for c in reading.mrz_checks}}
    return record


def analyse_document(image: DecodedImage, kind: str, models: LoadedModels,
                     config: Config) -> ItemAnalysis:
    name = reader_kind(kind)
    if name is None:
        check = _check("document_read", None, 0.0, "share of fields", 0.0,
                       f"Belum ada pembaca untuk dokumen {kind}; periksa manual",
                       f"No reader for {kind} documents yet; check by eye")
        return ItemAnalysis(checks=(check,), summary=f"{kind}: stored, not read automatically",
                            record={"reader_kind": None})
    reading = read_document(image.rgb, name, models.objects.get(TEXT_DETECTOR),
                            models.objects.get(TEXT_RECOGNISER))
    checks = _checks(reading, config.documents)
    failed = [c.requirement for c in checks if c.outcome is Outcome.FAIL]
    summary = (f"{kind}: {len(reading.fields)}/{len(_EXPECTED_FIELDS[name])} fields read"
               + (f"; attention: {', '.join(failed)}" if failed else ""))
    return ItemAnalysis(checks=tuple(checks), summary=summary, fields=reading.fields,
                        record=_record(reading))

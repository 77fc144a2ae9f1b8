"""Reading generated documents of known content, through the same path the counter uses."""

import dataclasses
import io
import random

import numpy as np
import pytest
from PIL import Image

from verifier.config import Config
from verifier.documents.item import TEXT_DETECTOR, TEXT_RECOGNISER, analyse_document
from verifier.documents.layout import KTP_PORTRAIT_BOX, KTP_SIZE_PX, box_px
from verifier.documents.nik import encode_nik
from verifier.documents.reader import extract_portrait, read_document
from verifier.documents.rectify import find_quad
from verifier.imaging import decode_image
from verifier.models import LoadedModels, load_one
from verifier.synthetic.akta import generate_akta
from verifier.synthetic.degrade import Degradation, degrade, random_degradation
from verifier.synthetic.identity import random_identity
from verifier.synthetic.ktp import generate_ktp, ktp_fields, render_ktp
from verifier.synthetic.passport import generate_passport

CONFIG = Config()


@pytest.fixture(scope="module")
def models() -> LoadedModels:
    objects = {name: load_one(CONFIG.models_registry, name)
               for name in (TEXT_DETECTOR, TEXT_RECOGNISER)}
    return LoadedModels(face_detector=None, objects=objects, verified={})


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _analyse(rgb: np.ndarray, kind: str, models: LoadedModels):  # type: ignore[no-untyped-def]
    return analyse_document(decode_image(_jpeg(rgb), CONFIG.imaging), kind, models, CONFIG)


def test_generator_is_deterministic_and_consistent() -> None:
    a, truth = generate_ktp(11)
    b, again = generate_ktp(11)
    assert np.array_equal(a, b) and truth == again
    assert a.shape == (KTP_SIZE_PX[1], KTP_SIZE_PX[0], 3)
    from verifier.documents.nik import decode_nik

    info = decode_nik(truth["nik"])
    assert info.valid and info.birth_date is not None
    assert info.birth_date.isoformat() == truth["tanggal_lahir"]
    assert (info.sex == "FEMALE") == (truth["jenis_kelamin"] == "PEREMPUAN")


@pytest.mark.parametrize("seed", [0, 3, 6, 9, 12, 15])
def test_document_corners_found_within_a_few_pixels(seed: int) -> None:
    card, _ = generate_ktp(seed)
    shot = degrade(card, dataclasses.replace(random_degradation(random.Random(seed)),
                                             quarter_turns=0), seed)
    quad = find_quad(shot.rgb)
    assert quad is not None
    assert np.abs(quad - shot.quad_px).max() < 8.0


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "degradation"), [
    (1, Degradation()),
    (2, Degradation(quarter_turns=2, tilt_deg=4, perspective=0.04, clutter=True,
                    jpeg_quality=70)),
    (4, Degradation(quarter_turns=1, tilt_deg=-3, brightness=0.6, shadow=0.3,
                    noise_sigma=4)),
])
def test_ktp_fields_read_from_photos(seed: int, degradation: Degradation,
                                     models: LoadedModels) -> None:
    card, truth = generate_ktp(seed)
    analysis = _analyse(degrade(card, degradation, seed).rgb, "KTP", models)
    read = {f.name: f.value for f in analysis.fields}
    assert read["nik"] == truth["nik"]
    wrong = {k: (v, read.get(k)) for k, v in truth.items() if read.get(k) != v}
    assert len(wrong) <= 1, wrong
    checks = {c.requirement: c.outcome.value for c in analysis.checks}
    assert checks["document_read"] == "pass" and checks["nik_valid"] == "pass"
    assert analysis.record["nik"]["regency_code"] == truth["nik"][:4]
    # The photo box points at the card's photo: the astronaut's orange suit is there.
    x0, y0, x1, y1 = analysis.record["portrait_box_px"]
    assert (x0, y0, x1, y1) == box_px(KTP_PORTRAIT_BOX, KTP_SIZE_PX)


@pytest.mark.slow
def test_nik_disagreeing_with_the_card_is_flagged(models: LoadedModels) -> None:
    person = random_identity(random.Random(5))
    other_sex = "FEMALE" if person.sex == "MALE" else "MALE"
    forged = dataclasses.replace(person, nik=encode_nik(person.nik[:6], person.birth_date,
                                                       other_sex, 7))
    card = render_ktp(forged, "SEUMUR HIDUP", 5)
    analysis = _analyse(card, "ktp", models)
    assert {f.name: f.value for f in analysis.fields}["jenis_kelamin"] == \
        ktp_fields(person, "SEUMUR HIDUP")["jenis_kelamin"]
    checks = {c.requirement: c for c in analysis.checks}
    assert checks["nik_valid"].outcome.value == "pass"  # a valid NIK, just not this card's
    assert checks["nik_matches_card"].outcome.value == "fail"
    assert "sex" in checks["nik_matches_card"].message_en
    assert analysis.record["nik"]["agreement"] == {"birth_date": True, "sex": False,
                                                   "province": True, "regency": True}


@pytest.mark.slow
def test_birth_certificate_read_with_date_in_words(models: LoadedModels) -> None:
    page, truth = generate_akta(3)
    shot = degrade(page, Degradation(quarter_turns=2, tilt_deg=2, perspective=0.03), 3)
    analysis = _analyse(shot.rgb, "AKTA_KELAHIRAN", models)
    read = {f.name: f.value for f in analysis.fields}
    wrong = {k: (v, read.get(k)) for k, v in truth.items() if read.get(k) != v}
    assert len(wrong) <= 1, wrong
    assert read["tanggal_lahir"] == truth["tanggal_lahir"]


@pytest.mark.slow
def test_passport_mrz_read_and_every_check_digit_reported(models: LoadedModels) -> None:
    page, truth = generate_passport(8)
    analysis = _analyse(degrade(page, Degradation(tilt_deg=-3), 8).rgb, "OLD_PASSPORT",
                        models)
    read = {f.name: f.value for f in analysis.fields}
    for name in ("document_number", "tanggal_lahir", "expiry_date", "jenis_kelamin",
                 "nationality", "surname"):
        assert read[name] == truth[name], name
    assert read["mrz_check_digits_ok"] == "true"
    mrz_checks = [c for c in analysis.checks if c.requirement.startswith("mrz_check_")]
    assert {c.requirement for c in mrz_checks} == {
        "mrz_check_document_number", "mrz_check_birth_date", "mrz_check_expiry_date",
        "mrz_check_personal_number", "mrz_check_composite"}
    assert all(c.outcome.value == "pass" for c in mrz_checks)


def test_portrait_extracted_from_a_photographed_card() -> None:
    card, _ = generate_ktp(7)
    shot = degrade(card, Degradation(quarter_turns=2, tilt_deg=5, perspective=0.03), 7)
    portrait = extract_portrait(shot.rgb, "ktp")
    assert portrait is not None
    x0, y0, x1, y1 = box_px(KTP_PORTRAIT_BOX, KTP_SIZE_PX)
    expected = card[y0:y1, x0:x1].astype(float)
    assert portrait.shape == expected.shape
    assert np.abs(portrait.astype(float) - expected).mean() < 25
    assert extract_portrait(shot.rgb, "akta") is None


def test_images_without_a_document_give_checks_not_crashes(models: LoadedModels) -> None:
    blank = np.full((540, 856, 3), 200, np.uint8)
    noise = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    for image in (blank, noise):
        for kind in ("KTP", "AKTA_KELAHIRAN", "OLD_PASSPORT"):
            analysis = _analyse(image, kind, models)
            outcomes = {c.requirement: c.outcome.value for c in analysis.checks}
            assert outcomes["document_read"] == "fail", (kind, analysis.summary)
    other = _analyse(blank, "IJAZAH", models)
    assert other.fields == () and other.checks[0].outcome.value == "unknown"
    with pytest.raises(ValueError, match="no reader"):
        read_document(blank, "IJAZAH", None)


def test_generated_passports_and_birth_certificates_are_self_consistent() -> None:
    from verifier.documents.mrz import parse_mrz
    from verifier.documents.words import words_to_date

    for seed in range(5):
        _, truth = generate_passport(seed)
        data = parse_mrz((truth["mrz_line_1"], truth["mrz_line_2"]))
        assert data.check_digits_ok and data.document_number == truth["document_number"]
        _, akta = generate_akta(seed)
        # The number starts with the issuing regency's code.
        from verifier.documents.regions import regency_card_name

        assert akta["penerbit"].endswith(str(regency_card_name(akta["nomor_akta"][:4])))
    assert words_to_date("dua belas Juli seribu sembilan ratus tujuh puluh tujuh") is not None


def test_degradation_parameters_are_applied_as_stated() -> None:
    card, _ = generate_ktp(2)
    plain = degrade(card, Degradation(), 2)
    dark = degrade(card, Degradation(brightness=0.5), 2)
    turned = degrade(card, Degradation(quarter_turns=1), 2)
    # The document's own top-left corner is reported first, wherever the turn put it.
    assert turned.quad_px[0][0] > turned.quad_px[2][0]  # turned clockwise: top-left is right
    inside = plain.rgb[480, 640].astype(float)
    assert np.allclose(dark.rgb[480, 640].astype(float), inside * 0.5, atol=3)
    a = degrade(card, random_degradation(random.Random(9)), 9)
    b = degrade(card, random_degradation(random.Random(9)), 9)
    assert np.array_equal(a.rgb, b.rgb)


@pytest.mark.slow
def test_old_rejang_lebong_nik_on_a_lebong_card_is_not_a_mismatch(models: LoadedModels) -> None:
    # Lebong was split from Rejang Lebong: a resident may keep a 1702 NIK on a Lebong card.
    person = random_identity(random.Random(8))
    person = dataclasses.replace(person, regency_code="1707", regency="LEBONG",
                                 nik=encode_nik("170201", person.birth_date, person.sex, 12))
    analysis = _analyse(render_ktp(person, "SEUMUR HIDUP", 8), "ktp", models)
    checks = {c.requirement: c.outcome.value for c in analysis.checks}
    assert checks["nik_matches_card"] == "pass"
    assert analysis.record["nik"]["agreement"]["regency"] is False
    assert analysis.record["nik"]["regency_name"] == "REJANG LEBONG"


def test_documents_for_a_given_applicant() -> None:
    from verifier.synthetic.identity import identity_with_nik

    person = identity_with_nik(random.Random(1), "1707014508900001", "Siti Aminah", "Muara Aman")
    _, ktp = generate_ktp(1, person)
    _, akta = generate_akta(1, person)
    assert (ktp["nik"], ktp["nama"], ktp["tanggal_lahir"], ktp["jenis_kelamin"]) == (
        "1707014508900001", "SITI AMINAH", "1990-08-05", "PEREMPUAN")
    assert ktp["kabupaten_kota"] == "KABUPATEN LEBONG" and ktp["tempat_lahir"] == "MUARA AMAN"
    assert (akta["nama"], akta["tanggal_lahir"]) == ("SITI AMINAH", "1990-08-05")
    with pytest.raises(ValueError, match="not valid"):
        identity_with_nik(random.Random(1), "1707014508900000", "X", "Y")
    with pytest.raises(ValueError, match="Bengkulu"):
        identity_with_nik(random.Random(1), "3171014508900001", "X", "Y")

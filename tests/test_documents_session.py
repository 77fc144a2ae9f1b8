"""Document reading where it shows: a counter session over real gRPC, and the CLI."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.harness import InProcessVerifier
from tests.test_server import Messages, of, run_stream
from lebong_contract.api.v1 import types_pb2
from verifier.cli import main
from verifier.synthetic.akta import generate_akta
from verifier.synthetic.degrade import Degradation, degrade
from verifier.synthetic.ktp import generate_ktp


def _jpeg(rgb) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.slow
def test_session_returns_the_fields_and_stores_them(verifier: InProcessVerifier) -> None:
    card, truth = generate_ktp(21)
    page, akta_truth = generate_akta(21)
    m = Messages()
    msgs = [m.start(),
            m.document(_jpeg(degrade(card, Degradation(tilt_deg=3, clutter=True), 21).rgb)),
            m.document(_jpeg(page), kind=types_pb2.DOCUMENT_KIND_AKTA_KELAHIRAN),
            m.finish()]
    replies = run_stream(verifier.address, msgs)
    ktp_result, akta_result = of(replies, "item_result")
    ktp = {f.name: f for f in ktp_result.fields}
    assert ktp["nik"].value == truth["nik"] and ktp["nik"].confidence > 0.5
    assert sum(ktp[k].value == v for k, v in truth.items() if k in ktp) >= 16
    assert {c.requirement for c in ktp_result.checks} >= {"document_read", "nik_valid",
                                                         "nik_matches_card"}
    akta = {f.name: f.value for f in akta_result.fields}
    assert akta["tanggal_lahir"] == akta_truth["tanggal_lahir"]
    # The case keeps the reading, record included, for the rules and the auditors.
    case = verifier.store.find_case(m.sid)
    assert case is not None
    assert verifier.store.payload(case.case_id, 2) is not None


def test_cli_reads_a_card_to_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    card, truth = generate_ktp(22)
    image = tmp_path / "ktp.jpg"
    image.write_bytes(_jpeg(card))
    report = tmp_path / "out" / "ktp.json"
    assert main(["read-document", "--kind", "ktp", "--json", str(report), str(image)]) == 0
    printed = capsys.readouterr().out
    assert "nik" in printed and truth["nik"] in printed
    data = json.loads(report.read_text())
    (doc,) = data["documents"]
    fields = {f["name"]: f for f in doc["fields"]}
    assert fields["nik"]["value"] == truth["nik"]
    assert 0.0 <= fields["nama"]["confidence"] <= 1.0


def test_cli_names_unreadable_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(_jpeg(generate_ktp(1)[0])[:2000])
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert main(["read-document", "--kind", "passport", "--json", "-", str(broken), str(text),
                 str(tmp_path / "missing.png")]) == 2
    data = json.loads(capsys.readouterr().out)
    errors = [d["error"] for d in data["documents"]]
    assert "truncated" in errors[0].lower()
    assert "format" in errors[1].lower() or "identif" in errors[1].lower()
    assert "cannot read" in errors[2]

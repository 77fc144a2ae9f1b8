"""The review page in real headless Chromium (Debian's /usr/bin/chromium through Playwright),
on SQLite and PostgreSQL: log in, filter the queue, open a flagged case, see the evidence
side by side with the mismatch highlighted, record a decision; every step audited. Served by
waitress, as `verifier review` serves it; sign-in with a TOTP second factor."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.authenticator import Authenticator
from tests.images import encode
from verifier.cases.crypto import generate_ring
from verifier.cases.store import CaseStore
from verifier.config import load_config
from verifier.consistency import document_rules
from verifier.consistency.case_evidence import case_evidence
from verifier.consistency.context import CaseContext
from verifier.consistency.verdict import Match, decide
from verifier.review.app import create_app
from verifier.synthetic.frames import framed_face
from verifier.synthetic.ktp import generate_ktp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "kata sandi petugas"
KEYS = generate_ring()
KTP_IMAGE, KTP_FIELDS = generate_ktp(3)  # RIZKY KURNIAWAN, card dated 2026-06-25
LIVE = encode(framed_face(0.5))
REQUIREMENTS = [{"requirement": "face_size", "outcome": "pass", "value": 0.5, "unit": "ratio",
                 "score": 83.0, "threshold": 0.3, "message_id": "", "message_en": ""}]
FINGER_CHECKS = [{"requirement": "nfiq2", "outcome": "pass", "value": 62.0, "unit": "NFIQ 2",
                  "score": 62.0, "threshold": 30.0, "message_id": "", "message_en": ""}]


def flagged_case(store: CaseStore, sid: str, station: str = "lebong-loket-1") -> str:
    """A session whose form names someone else than its KTP, run through the real rules."""
    application = {"full_name": "BUDI SANTOSO", "nik": KTP_FIELDS["nik"],
                   "date_of_birth": KTP_FIELDS["tanggal_lahir"], "sex": "MALE",
                   "place_of_birth": KTP_FIELDS["tempat_lahir"]}
    case, _ = store.start_session(sid, 1, station, "petugas-7", application)
    store.record_message(case.case_id, 2, "frame", data=LIVE, keep_payload=False,
                         result={"ready": True, "requirements": REQUIREMENTS},
                         accept_capture=True)
    store.record_message(
        case.case_id, 3, "document", data=encode(KTP_IMAGE), keep_payload=True, subtype="KTP",
        result={"summary": "KTP", "checks": [], "record": {}, "fields": [
            {"name": k, "value": v, "raw_text": v, "confidence": 0.93}
            for k, v in KTP_FIELDS.items()]})
    rng = np.random.default_rng(1)
    store.record_message(case.case_id, 4, "fingerprint", data=encode(
        (rng.random((300, 260)) * 255).astype(np.uint8), "PNG"), keep_payload=True,
        subtype="2", result={"summary": "", "checks": FINGER_CHECKS, "fields": [],
                             "record": {}})
    # The document rules read only the evidence: no model, gallery or matcher.
    ctx = CaseContext(evidence=case_evidence(store.contents(case.case_id)), galleries=None,
                      models=None, face_matcher=None,  # type: ignore[arg-type]
                      config=load_config())
    face = Match(modality="face", probe="live_capture", reference="ktp_photo", score=0.41,
                 score_unit="1 - L2", threshold=0.45, operating_point="FMR=1e-3", match=False,
                 model="dlib_resnet_v1")
    verdict = decide(case.case_id, list(document_rules.analyse(ctx).flags), (face,))
    store.finish(case.case_id, 5, verdict)
    return case.case_id


@dataclass
class Site:
    url: str
    store: CaseStore
    case_id: str
    authenticator: Authenticator


@pytest.fixture
def site(case_db_url: str) -> Iterator[Site]:
    from waitress import create_server

    store = CaseStore(case_db_url, KEYS)
    store.add_user("rina", PASSWORD, "reviewer")
    authenticator = Authenticator(store, "rina")
    case_id = flagged_case(store, "s-1")
    server = create_server(create_app(store, load_config()), host="127.0.0.1", port=0)

    def serve() -> None:
        with contextlib.suppress(OSError):  # close() below pulls the socket from its select()
            server.run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.effective_port}", store, case_id, authenticator)
    server.close()
    store.close()


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="Debian chromium absent: run tools/system-deps.sh")
def test_officer_reviews_a_flagged_case_in_chromium(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(site.url + "/")
        expect(page).to_have_url(f"{site.url}/login?next=/")
        page.fill("input[name=username]", "rina")
        page.fill("input[name=password]", "wrong password!")
        page.click("button[type=submit]")
        expect(page.locator(".notice")).to_contain_text("Wrong username or password")
        page.fill("input[name=username]", "rina")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".notice")).to_contain_text("Enter the authenticator code")
        page.fill("input[name=username]", "rina")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=totp]", site.authenticator.code())
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{site.url}/")

        # The queue, filtered by rule and by station.
        row = page.locator("table.queue tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("identity.name_mismatch")
        page.fill("input[name=rule]", "identity.")
        page.click(".filters button")
        expect(row).to_contain_text("FAIL")
        page.fill("input[name=station]", "another-loket")
        page.click(".filters button")
        expect(row).to_contain_text("No cases")
        page.goto(site.url + "/")
        page.click(f"a[href='/case/{site.case_id}']")

        # Evidence side by side: live capture and KTP scan, both decoded by the browser.
        images = page.locator(".side-by-side img")
        expect(images).to_have_count(2)
        for i in range(2):  # (no wait_for_function: the page's CSP forbids eval)
            expect(images.nth(i)).to_have_js_property("complete", True)
        assert page.evaluate("Array.from(document.images).map(i => i.naturalWidth)") == [
            640, KTP_IMAGE.shape[1]]
        mismatch = page.locator(".document tr.mismatch")
        expect(mismatch.filter(has_text="RIZKY KURNIAWAN")).to_contain_text(
            "identity.name_mismatch")
        expect(page.locator("tr.mismatch").filter(has_text="BUDI SANTOSO")).to_have_count(1)
        expect(page.locator(".document .match")).to_contain_text("0.410")
        expect(page.locator(".document .match")).to_contain_text("NO match")
        expect(page.locator(".live table.checks")).to_contain_text("face_size")
        expect(page.locator("table.fingerprints")).to_contain_text("nfiq2")
        expect(page.locator(".flags")).to_contain_text("ktp.validity_date_passed")

        # A decision needs a reason: the browser will not send the form without one.
        page.check("input[value=REJECT]")
        page.click(".decision button")
        expect(page.locator("textarea:invalid")).to_have_count(1)
        assert site.store.reviews(site.case_id) == []
        page.fill("textarea[name=reason]", "Nama pada formulir bukan nama pada KTP")
        page.click(".decision button")
        expect(page.locator(".notice")).to_contain_text("Decision recorded")
        expect(page.locator("table.queue tbody tr")).to_contain_text("No cases")
        browser.close()

    [review] = site.store.reviews(site.case_id)
    assert (review.reviewer, review.decision) == ("rina", "REJECT")
    actions = [(e.action, e.detail.get("sequence")) for e in reversed(site.store.audit.entries())]
    assert actions[:5] == [("user_added", None), ("totp_enrolled", None),
                           ("sign_in_refused", None), ("sign_in_refused", None),
                           ("sign_in", None)]
    assert ("view_case", None) in actions and ("decision", None) in actions
    assert {s for a, s in actions if a == "view_evidence"} == {2, 3}
    assert site.store.audit.verify().ok


@pytest.fixture
def client_site(tmp_path: Path) -> Iterator[tuple[CaseStore, str]]:
    store = CaseStore(f"sqlite:///{tmp_path / 'c.sqlite3'}", KEYS)
    store.add_user("rina", PASSWORD, "reviewer")
    store.add_user("audra", PASSWORD, "auditor")
    yield store, flagged_case(store, "s-2")
    store.close()


def login(client, username: str, totp: str = "") -> str:  # noqa: ANN001 - Flask's client
    """Sign in; returns the CSRF token the signed-in pages carry."""
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "totp": totp})
    assert response.status_code == 302, response.data
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_pages_refuse_strangers_forged_forms_and_auditors(
        client_site: tuple[CaseStore, str]) -> None:
    store, case_id = client_site
    client = create_app(store, load_config()).test_client()
    assert client.get(f"/case/{case_id}/image/3").status_code == 302  # to the login page
    csrf = login(client, "audra", Authenticator(store, "audra").code())
    page = client.get(f"/case/{case_id}")
    assert page.status_code == 200 and b"Auditor accounts can only look" in page.data
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    form = {"decision": "APPROVE", "reason": "ok", "csrf": csrf}
    assert client.post(f"/case/{case_id}/decision", data=form).status_code == 403
    client = create_app(store, load_config()).test_client()
    login(client, "rina", Authenticator(store, "rina").code())
    assert client.post(f"/case/{case_id}/decision", data=dict(form, csrf="forged")
                       ).status_code == 400
    assert client.get("/case/no-such-case").status_code == 404
    assert store.reviews(case_id) == []

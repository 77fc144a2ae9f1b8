"""The counter application (`capture-station ui`): its JSON API through Starlette's test client
against a real verifier and the SBI simulator, and a whole visit in Debian's Chromium with a
video file as the camera: retake, finger exception, a corrected KTP field, the verifier killed
and restarted mid-visit, the verdict and the printed receipt.

Screenshots go to the test's tmp dir; `STATION_UI_SCREENSHOTS=docs/screenshots` (set once, by
hand) copies the main ones there for the README."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
import uvicorn
from starlette.testclient import TestClient

from capture_station.sbi_sim import SbiServer, SbiSimulator, synthetic_presses
from capture_station.session import SessionConfig
from capture_station.spool import Spool
from capture_station.ui.app import create_app
from capture_station.ui.counter import Counter, CounterSettings
from capture_station.ui.serve import counter_for
from tests.complete_case import ktp_jpeg
from tests.harness import InProcessVerifier, SubprocessVerifier, free_port, wait_serving
from tests.test_review_page import CHROMIUM, CHROMIUM_ARGS
from verifier.synthetic.frames import approach_sequence

HEADERS = {"X-Counter": "1"}
APPLICATION = {"full_name": "SITI AMINAH", "nik": "1707014508900001",
               "date_of_birth": "1990-08-05", "place_of_birth": "MUARA AMAN", "sex": "female",
               "passport_type": "electronic"}
VIDEO_FPS = 25
MAIN_SCREENSHOTS = ("sign-in", "photo", "fingers", "documents", "verdict", "receipt")


@pytest.fixture
def sbi() -> Iterator[SbiServer]:
    with SbiServer(SbiSimulator(synthetic_presses(3))) as server:
        yield server


def counter(tmp_path: Path, address: str, scanner: str | None = None,
            camera: str | None = None) -> Counter:
    settings = CounterSettings(
        session=SessionConfig(verifier_address=address, station_id="loket-ui",
                              connect_deadline_s=120, backoff_max_s=1.0),
        scanner_uri=scanner, dev=True, health_ttl_s=0.0)
    return counter_for(settings, lambda: Spool(tmp_path / "spool.sqlite3"), camera)


@contextlib.contextmanager
def client(c: Counter) -> Iterator[TestClient]:
    with TestClient(create_app(c), base_url="http://127.0.0.1") as http:
        yield http


def post(http: TestClient, path: str, body: Any = None, **kw: Any) -> Any:
    return http.post(path, json=body, headers=HEADERS, **kw)


def wait_state(http: TestClient, check: Any, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = http.get("/api/state").json()
        if check(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"state never matched: {json.dumps(state)[:2000]}")


# The API ---------------------------------------------------------------------------------


def test_no_visit_without_a_signed_in_officer(tmp_path: Path) -> None:
    with client(counter(tmp_path, f"127.0.0.1:{free_port()}")) as http:
        refused = post(http, "/api/visit", {"application": APPLICATION})
        assert refused.status_code == 401
        assert "no officer is signed in" in refused.json()["error"]
        assert http.get("/api/state").json()["visit"] is None
        assert post(http, "/api/sign-in", {"username": "  "}).status_code == 400
        # Twin: signed in, the same request opens a visit (the verifier is away: the spool
        # holds its Start).
        assert post(http, "/api/sign-in", {"username": "petugas-7"}).json()["result"] == {
            "officer": "petugas-7"}
        started = post(http, "/api/visit", {"application": APPLICATION})
        assert started.status_code == 200, started.text
        state = http.get("/api/state").json()
        assert state["officer"] == "petugas-7"
        assert state["visit"]["id"] == started.json()["result"]["visit"]
        assert post(http, "/api/sign-out").status_code == 409  # not in the middle of a visit
        health = http.get("/api/health").json()
        assert health["verifier"]["ok"] is False and health["spool"]["waiting"] == 1


def test_bad_application_is_refused_with_every_problem_named(tmp_path: Path) -> None:
    with client(counter(tmp_path, f"127.0.0.1:{free_port()}")) as http:
        post(http, "/api/sign-in", {"username": "petugas-7"})
        bad = {**APPLICATION, "nik": "17070145", "sex": "x"}
        del bad["place_of_birth"]
        refused = post(http, "/api/visit", {"application": bad})
        assert refused.status_code == 400
        error = refused.json()["error"]
        for problem in ("missing field 'place_of_birth'", "nik must be exactly 16 digits",
                        "sex must be 'male' or 'female'"):
            assert problem in error
        not_json = http.post("/api/visit", content=b"{nik:", headers=HEADERS)
        assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
        assert post(http, "/api/visit", {"application": []}).status_code == 400
        assert post(http, "/api/visit", {}).status_code == 400
        assert http.get("/api/state").json()["visit"] is None
        # Twin: the corrected form starts the visit.
        assert post(http, "/api/visit", {"application": APPLICATION}).status_code == 200


def test_changes_need_the_counter_header_and_a_loopback_host(tmp_path: Path) -> None:
    with client(counter(tmp_path, f"127.0.0.1:{free_port()}")) as http:
        forged = http.post("/api/sign-in", json={"username": "petugas-7"})
        assert forged.status_code == 403 and "X-Counter" in forged.json()["error"]
        assert http.get("/api/state").json()["officer"] is None
        rebound = http.get("/api/state", headers={"Host": "counter.example"})
        assert rebound.status_code == 400
        page = http.get("/")
        assert page.status_code == 200 and "/static/app.js" in page.text
        assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
        assert post(http, "/api/sign-in", {"username": "petugas-7"}).status_code == 200


@pytest.mark.slow
def test_visit_through_the_api_against_the_real_verifier(
        tmp_path: Path, verifier: InProcessVerifier, sbi: SbiServer) -> None:
    scanner = f"sbi://127.0.0.1:{sbi.port}"
    with client(counter(tmp_path, verifier.address, scanner)) as http:
        post(http, "/api/sign-in", {"username": "petugas-7"})
        assert post(http, "/api/fingers/2/capture").status_code == 409  # no visit yet
        post(http, "/api/visit", {"application": APPLICATION})
        assert http.get("/api/health").json()["verifier"]["ok"] is True

        captured = post(http, "/api/fingers/2/capture")
        assert captured.status_code == 200, captured.text
        assert captured.json()["result"]["device_score"] > 0
        assert post(http, "/api/fingers/11/capture").status_code == 400
        assert post(http, "/api/fingers/1/exception",
                    {"reason": "bandaged", "note": "luka"}).status_code == 200
        wrong = post(http, "/api/fingers/3/exception", {"reason": "sunburnt"})
        assert wrong.status_code == 400 and "reason must be one of" in wrong.json()["error"]
        assert post(http, "/api/fingers/1/capture").status_code == 409  # declared exception

        sent = http.post("/api/documents/ktp", content=ktp_jpeg(), headers=HEADERS)
        assert sent.status_code == 200, sent.text
        unknown = http.post("/api/documents/sim_card", content=b"x", headers=HEADERS)
        assert unknown.status_code == 400 and "unknown document kind" in unknown.json()["error"]
        state = wait_state(http, lambda s: s["visit"]["documents"][0]["fields"]
                           and s["visit"]["fingers"]["2"]["attempts"][0]["status"] == "analysed")
        finger = state["visit"]["fingers"]["2"]["attempts"][0]
        assert finger["nfiq2"] is not None and finger["cause"]["en"]
        assert state["visit"]["fingers"]["1"]["exception"] == {"reason": "bandaged",
                                                               "note": "luka"}
        assert state["visit"]["next_finger"] == 3
        missing = wait_state(http, lambda s: s["visit"]["missing"])["visit"]["missing"]
        assert all(f["message"]["en"] for f in missing)  # what the case still lacks
        ktp = state["visit"]["documents"][0]
        assert {f["name"] for f in ktp["fields"]} >= {"nik", "nama"}
        assert all(f["low"] == (f["confidence"] < 0.8) for f in ktp["fields"])
        refused = post(http, "/api/corrections", {"sequence": ktp["sequence"],
                                                  "field": "no_such_field", "value": "x"})
        assert refused.status_code == 400 and "no field" in refused.json()["error"]
        corrected = post(http, "/api/corrections", {"sequence": ktp["sequence"],
                                                    "field": "tempat_lahir",
                                                    "value": "MUARA AMAN", "note": "KTP asli"})
        assert corrected.status_code == 200, corrected.text
        wait_state(http, lambda s: next(f for f in s["visit"]["documents"][0]["fields"]
                                        if f["name"] == "tempat_lahir")["corrected"]["status"]
                   == "accepted")

        assert post(http, "/api/finish").status_code == 200
        state = wait_state(http, lambda s: s["visit"]["verdict"] is not None)
        verdict = state["visit"]["verdict"]
        assert verdict["case_id"] and verdict["decision"] in ("review", "fail")
        assert all(f["message"]["id"] and f["message"]["en"] for f in verdict["flags"])
        after = post(http, "/api/fingers/3/capture")
        assert after.status_code == 409 and "finished" in after.json()["error"]
        # The next applicant's screen holds nothing of this one.
        post(http, "/api/visit", {"application": {**APPLICATION, "full_name": "BUDI"}})
        shown = json.dumps(http.get("/api/state").json())
        assert verdict["case_id"] not in shown and "SITI" not in shown


# The browser -----------------------------------------------------------------------------


def write_video(path: Path) -> None:
    """An applicant walking up, then holding still for 3 s; the hub loops it."""
    frames = approach_sequence(50)
    frames += [frames[-1]] * (3 * VIDEO_FPS)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, (640, 480))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


class Served:
    """The app on uvicorn in a thread, as `capture-station ui` serves it."""

    def __init__(self, c: Counter) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.server = uvicorn.Server(uvicorn.Config(create_app(c), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()),
                                       daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the counter app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="Debian chromium absent: run tools/system-deps.sh")
def test_whole_visit_in_chromium_with_a_verifier_restart(tmp_path: Path, sbi: SbiServer) -> None:
    from playwright.sync_api import sync_playwright

    video = tmp_path / "applicant.avi"
    write_video(video)
    ktp = tmp_path / "ktp.jpg"
    ktp.write_bytes(ktp_jpeg())
    shots = tmp_path / "screenshots"
    shots.mkdir()
    verifier = SubprocessVerifier(tmp_path / "cases.sqlite3")
    try:
        start_verifier(verifier)
        started = time.monotonic()
        c = counter(tmp_path, verifier.address, f"sbi://127.0.0.1:{sbi.port}", str(video))
        with Served(c) as site, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            try:
                state = drive_the_visit(page, site.url, shots, verifier, ktp)
            except Exception:
                page.screenshot(path=shots / "failure.png", full_page=True)
                raise
            finally:
                browser.close()
            session_s = time.monotonic() - started
            print(f"whole visit through the UI: {session_s:.0f} s")
        visit = state["visit"]
        assert visit["verdict"]["case_id"]
        assert visit["fingers"]["1"]["exception"]["reason"] == "bandaged"
        assert all(visit["fingers"][str(p)]["attempts"] for p in range(2, 11))
        assert visit["connection"]["state"] == "connected"
        if state["corrected"]:
            assert any(f["corrected"] for f in visit["documents"][0]["fields"])
        copy_screenshots(shots)
    finally:
        if verifier.proc is not None and verifier.proc.poll() is None:
            verifier.terminate()


def drive_the_visit(page: Any, url: str, shots: Path, verifier: SubprocessVerifier,
                    ktp: Path) -> dict[str, Any]:
    """The officer's whole visit; the page's final state, and whether a field was corrected."""
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#h-verifier")).to_have_class("ok")
    page.screenshot(path=shots / "sign-in.png", full_page=True)

    # No officer: the API refuses a visit; the page offers only the sign-in.
    expect(page.locator("#application")).to_be_hidden()
    page.fill("#sign-in-form [name=username]", "petugas-7")
    page.keyboard.press("Enter")
    expect(page.locator("#officer-name")).to_contain_text("petugas-7")

    # A bad form is refused with its problem named; the corrected one starts.
    form = page.locator("#application-form")
    for name, value in APPLICATION.items():
        if name in ("sex", "passport_type"):
            form.locator(f"[name={name}]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(value)
    form.locator("[name=nik]").fill("12345")
    form.locator("button[type=submit]").click()
    expect(page.locator("#message")).to_contain_text("nik must be exactly 16 digits")
    form.locator("[name=nik]").fill(APPLICATION["nik"])
    form.locator("button[type=submit]").click()
    expect(page.locator("#visit")).to_be_visible()

    # Preview frame rate, measured in the page over 10 s.
    page.wait_for_function("window.counterPreview.frames > 0")
    first = page.evaluate("window.counterPreview.frames")
    time.sleep(10)
    fps = (page.evaluate("window.counterPreview.frames") - first) / 10
    print(f"preview: {fps:.1f} frames per second delivered to the browser")
    assert fps >= 15

    # The photo: captured automatically, refused once (retake), then accepted.
    expect(page.locator("#captured")).to_be_visible(timeout=60_000)
    first_visit = page.evaluate("fetch('/api/state').then(r => r.json())")["visit"]["id"]
    page.click("#retake-photo")
    expect(page.locator("#captured")).to_be_hidden()
    expect(page.locator("#captured")).to_be_visible(timeout=60_000)
    state = page.evaluate("fetch('/api/state').then(r => r.json())")
    assert state["visit"]["id"] == first_visit and state["visit"]["retakes"] == 1  # one case
    page.screenshot(path=shots / "photo.png", full_page=True)
    page.keyboard.press("Alt+a")
    expect(page.locator("#photo-state")).to_have_text("Foto diterima")

    # Documents: the KTP scan, its fields with confidences; correct one if possible.
    page.set_input_files("#document-file", str(ktp))
    expect(page.locator("#document-list table")).to_be_visible(timeout=90_000)
    page.screenshot(path=shots / "documents.png", full_page=True)
    corrected = correct_a_field(page)

    # Fingers: the right thumb is bandaged, the rest scanned; the verifier is killed
    # and restarted after the third scan while the officer keeps going.
    page.click(".slot.f1")
    page.select_option("#exception-reason", "bandaged")
    page.fill("#exception-form [name=note]", "luka bakar")
    page.click("#exception-form button[type=submit]")
    expect(page.locator(".slot.f1.exception")).to_be_visible()
    for n, position in enumerate((2, 3, 4, 5, 6, 7, 8, 9, 10)):
        page.click(f".slot.f{position}")
        page.keyboard.press("Alt+p")
        page.wait_for_function(
            f"state && state.visit.fingers['{position}'] && !state.visit.busy",
            timeout=60_000)
        if n == 2:
            verifier.kill()
            expect(page.locator("#h-verifier")).to_have_class("down")
        if n == 4:  # captured while the verifier was down: waiting in the spool
            expect(page.locator("#backlog")).not_to_contain_text(": 0")
            expect(page.locator("#connection")).to_have_class("warn")
            page.screenshot(path=shots / "verifier-down.png", full_page=True)
            start_verifier(verifier)
    expect(page.locator("#backlog")).to_contain_text(": 0", timeout=60_000)
    page.screenshot(path=shots / "fingers.png", full_page=True)

    page.keyboard.press("Alt+s")
    expect(page.locator("#verdict-decision")).to_have_class(
        re.compile("decision (pass|review|fail)"), timeout=120_000)
    page.screenshot(path=shots / "verdict.png", full_page=True)
    page.click("#lang")
    expect(page.locator("#verdict h2")).to_have_text("Verdict")
    page.screenshot(path=shots / "verdict-en.png", full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("#receipt")).to_be_visible()
    expect(page.locator("#visit")).to_be_hidden()
    page.screenshot(path=shots / "receipt.png", full_page=True)
    page.emulate_media(media="screen")
    state = page.evaluate("fetch('/api/state').then(r => r.json())")
    return {**state, "corrected": corrected}


def start_verifier(verifier: SubprocessVerifier) -> None:
    """Start it and wait for its models, which take longer than the harness's 30 s on a busy
    machine."""
    with contextlib.suppress(TimeoutError):
        verifier.start()
    wait_serving(verifier.address, 240)


def correct_a_field(page: Any) -> bool:
    """Correct the KTP's place of birth; False (and the page says so) when this version
    cannot send corrections yet."""
    row = page.locator("#document-list tr", has_text="tempat_lahir").first
    row.locator("summary").click()
    row.locator("input[name=value]").fill("MUARA AMAN")
    row.locator("input[name=note]").fill("dibaca dari KTP asli")
    row.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('#message').hidden === false || "
                           "document.querySelector('#document-list').textContent"
                           ".includes('dikoreksi')")
    if page.locator("#message").is_visible():
        assert "not available" in page.locator("#message").text_content()
        return False
    return True


def copy_screenshots(shots: Path) -> None:
    """Into the README's folder, only when asked (STATION_UI_SCREENSHOTS=docs/screenshots),
    as 960-pixel-wide JPEGs to keep the repository small."""
    target = os.environ.get("STATION_UI_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for name in MAIN_SCREENSHOTS:
        image = cv2.imread(str(shots / f"{name}.png"))
        scale = 960 / image.shape[1]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(Path(target) / f"station-ui-{name}.jpg"), image,
                    [cv2.IMWRITE_JPEG_QUALITY, 80])

"""`make demo`: a whole counter session on this machine, with no camera and no scanner.

Generates its inputs (a short video of an applicant walking up to the camera, made from
scikit-image's astronaut photo; an application form; a KTP, whose photo is the same
astronaut, and a birth certificate for the same person), starts the verifier with its embedded SQLite case store and an SBI 2.0
fingerprint-scanner simulator with synthetic fingers (its key on the verifier's device trust
list), signs a demo officer in at the station and runs a capture-station session against
both, prints the live guidance and the verdict, pre-checks the cropped passport photo and a
non-compliant upload, and says how to open the case on the review page.

`--ui` (`make demo-ui`): the same verifier and simulator, then the officer's counter
application (`capture-station ui`) instead of the headless session, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from verifier.imaging import encode_jpeg
from verifier.pki.authority import (CA_CERT, CRL, SERVER_CERT, SERVER_KEY, init_authority,
                                    issue_station)
from lebong_contract.client_tls import ClientTls
from lebong_contract.probe import free_port, wait_serving
from verifier.synthetic.akta import generate_akta
from verifier.synthetic.degrade import Degradation, degrade
from verifier.synthetic.frames import approach_sequence
from verifier.synthetic.identity import identity_with_nik
from verifier.synthetic.ktp import generate_ktp
from verifier.synthetic.photo_variants import astronaut_base, recoloured_background

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "demo"
FPS = 10
APPLICANT = {"full_name": "SITI AMINAH", "nik": "1707014508900001",
             "date_of_birth": "1990-08-05", "place_of_birth": "MUARA AMAN", "sex": "female",
             "passport_type": "electronic"}
# What she typed on the form: day and month swapped, the commonest slip. The documents carry
# the real date, so the verdict is FAIL (identity.birth_date_mismatch) and the review page
# shows the form's and the documents' dates side by side.
TYPED_FORM = {**APPLICANT, "date_of_birth": "1990-05-08"}
REVIEWER, REVIEWER_PASSWORD = "demo-reviewer", "demo-password-2026"
OFFICER, OFFICER_PASSWORD = "demo-officer", "demo-officer-password-2026"


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def write_video(path: Path, frames: list[np.ndarray]) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


def counter_ui(address: str, video: Path, trust: Path, tls: ClientTls,
               env: dict[str, str], inputs: list[Path]) -> int:
    """`capture-station ui` against the demo's verifier, in the browser, until Ctrl-C."""
    print(f"[demo] counter application: sign in as {OFFICER} / {OFFICER_PASSWORD}; load "
          f"{', '.join(rel(p) for p in inputs)} on its page. Ctrl-C ends it.")
    try:
        subprocess.run(module(
            "capture_station.cli", "ui", "--verifier", address, "--camera", str(video),
            "--scanner", f"sbi://127.0.0.1?trust={trust}&score=40",
            "--tls-ca", str(tls.ca_file), "--tls-cert", str(tls.cert_file),
            "--tls-key", str(tls.key_file), "--spool", str(OUT / "station-spool.sqlite3"),
            "--open"), cwd=ROOT, env=env)
    except KeyboardInterrupt:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="The counter demo (see the module doc).")
    parser.add_argument("--ui", action="store_true",
                        help="open the counter application instead of the headless session")
    ui = parser.parse_args().ui
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in {*OUT.glob("*.sqlite3*"), *OUT.glob("*.key")}:
        stale.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_THREAD_LIMIT="1")
    log = open(OUT / "services.log", "w")

    video = OUT / "applicant.avi"
    write_video(video, approach_sequence(6 * FPS))
    application = OUT / "application.json"
    application.write_text(json.dumps(TYPED_FORM, indent=2))
    person = identity_with_nik(random.Random(7), APPLICANT["nik"], APPLICANT["full_name"],
                               APPLICANT["place_of_birth"])
    ktp, akta = OUT / "ktp.jpg", OUT / "akta.jpg"
    # Photographed on a desk, slightly tilted, as an officer's document camera would.
    ktp.write_bytes(degrade(generate_ktp(7, person)[0],
                            Degradation(tilt_deg=4, perspective=0.03, clutter=True), 7).encoded())
    akta.write_bytes(degrade(generate_akta(7, person)[0], Degradation(tilt_deg=-2), 7).encoded())
    print(f"[demo] inputs generated in {rel(OUT)}/: {video.name} ({6 * FPS} frames at "
          f"{FPS} fps), {application.name}, {ktp.name}, {akta.name}")

    db = OUT / "cases.sqlite3"
    address = f"127.0.0.1:{free_port()}"
    trust = OUT / "sbi-device.key"
    # Station and verifier talk mutual TLS, as at the office, with a throw-away CA.
    pki = Path(tempfile.mkdtemp(prefix="verifier-demo-pki-"))
    init_authority(pki, ["127.0.0.1", "localhost"])
    station_cert = issue_station(pki, "lebong-loket-1")
    tls = ClientTls(pki / CA_CERT, station_cert.cert_file, station_cert.key_file)
    server_config = pki / "verifier.toml"
    server_config.write_text(
        f'[server]\ntls_cert_file = "{pki / SERVER_CERT}"\ntls_key_file = "{pki / SERVER_KEY}"\n'
        f'client_ca_file = "{pki / CA_CERT}"\ncrl_file = "{pki / CRL}"\n'
        # The simulator's key, which it writes at start-up: its prints are attributed.
        f'[fingerprint]\ndevice_trust_file = "{trust}"\n')
    services = [
        subprocess.Popen(module("verifier.cli", "--config", str(server_config), "serve",
                                "--listen", address, "--db", str(db)),
                         cwd=ROOT, stdout=log, stderr=log, env=env),
        subprocess.Popen(module("capture_station.cli", "sbi-sim", "--dev", "--synthetic",
                                "--person", "7", "--trust-file", str(trust),
                                "--press-delay", "0.1"),
                         cwd=ROOT, stdout=log, stderr=log, env=env),
    ]
    try:
        t0 = time.monotonic()
        wait_serving(address, timeout_s=120, tls=tls)
        deadline = time.monotonic() + 60
        while not trust.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        print(f"[demo] verifier SERVING (mutual TLS, throw-away CA) on {address} after "
              f"{time.monotonic() - t0:.1f} s; "
              f"SBI fingerprint simulator up (log: {rel(OUT / 'services.log')})")

        # The officer at the counter signs in with a password (read from a file here).
        subprocess.run(module("verifier.cli", "users", "add", OFFICER, "--role", "officer",
                              "--db", str(db), "--password-stdin"),
                       input=OFFICER_PASSWORD + "\n", text=True, cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        officer_password = OUT / "officer-password"
        officer_password.write_text(OFFICER_PASSWORD + "\n")
        officer_password.chmod(0o600)
        if ui:
            return counter_ui(address, video, trust, tls, env, [application, ktp, akta])

        report, photo = OUT / "report.json", OUT / "passport-photo.jpg"
        station = subprocess.run(
            module("capture_station.cli", "run", "--verifier", address,
                   "--camera", str(video), "--max-fps", "5", "--application", str(application),
                   "--scanner", f"sbi://127.0.0.1?trust={trust}&score=40",
                   "--finger-exception", "5=bandaged:luka pada kelingking kanan",
                   "--document", f"ktp={ktp}", "--document", f"akta_kelahiran={akta}",
                   "--tls-ca", str(tls.ca_file), "--tls-cert", str(tls.cert_file),
                   "--tls-key", str(tls.key_file), "--officer", OFFICER,
                   "--officer-password-file", str(officer_password),
                   "--spool", str(OUT / "station-spool.sqlite3"), "--report", str(report),
                   "--photo", str(photo)),
            cwd=ROOT, env=env)
        if station.returncode != 0:
            print(f"[demo] capture station failed with exit code {station.returncode}")
            return station.returncode
        print(f"[demo] verdict report: {rel(report)}; passport photo: {rel(photo)}")

        upload = OUT / "upload-blue-background.jpg"
        upload.write_bytes(encode_jpeg(recoloured_background(astronaut_base())))
        html = OUT / "precheck.html"
        print("[demo] pre-check of the cropped photo and of an upload with a blue background:")
        subprocess.run(module("verifier.cli", "precheck", "--profile", "upload", "--html",
                              str(html), str(photo), str(upload)), cwd=ROOT, env=env)
        print(f"[demo] annotated pre-check report: {rel(html)}")

        case_id = json.loads(report.read_text())["case_id"]
        subprocess.run(module("verifier.cli", "users", "add", REVIEWER, "--db", str(db),
                              "--password-stdin"),
                       input=REVIEWER_PASSWORD + "\n", text=True, cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        # Reviewers need a second factor: enrol one; the demo shows how to get its codes.
        totp_uri = subprocess.run(module("verifier.cli", "users", "totp", REVIEWER, "--db",
                                         str(db)), text=True, cwd=ROOT, env=env, check=True,
                                  capture_output=True).stdout.strip()
        print("[demo] the case is waiting for review. Open the review page with:\n"
              f"  uv run verifier review --db {rel(db)} --listen 127.0.0.1:8080\n"
              f"  then http://127.0.0.1:8080/case/{case_id}  "
              f"(log in as {REVIEWER} / {REVIEWER_PASSWORD}; the authenticator code, from "
              f"{totp_uri}, is printed by\n"
              f"  uv run python -c \"import pyotp; print(pyotp.parse_uri('{totp_uri}').now())\")")
        return 0
    finally:
        for proc in services:
            proc.send_signal(signal.SIGTERM)
        for proc in services:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(pki, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

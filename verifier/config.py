"""Verifier configuration: every default lives here; one TOML file may override any of them.

The file has one table per dataclass below, e.g.

    [server]
    listen = "0.0.0.0:50051"
    [imaging]
    max_bytes = 8388608
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The model registry and face thresholds ship as package data: verifier/models_data is the
# repository's models/ folder (a link), copied into the wheel, so an installed verifier finds
# them without a source tree. `models_registry` and `[face] thresholds_path` may point
# elsewhere.
MODELS_DIR = Path(__file__).resolve().parent / "models_data"


@dataclass(frozen=True)
class ImagingConfig:
    """Limits of the decode gate. A 640x480 JPEG frame is ~50 KiB; a 500 ppi print ~150 KiB."""

    max_bytes: int = 16 * 1024 * 1024
    # 40 megapixels: an A4 page at 600 dpi is 35 MP; anything larger is a mistake or a bomb.
    max_pixels: int = 40_000_000
    max_side_px: int = 12_000
    # A large image in very few bytes is blank or crafted, and decoding it costs seconds and
    # up to a GiB (a 629-byte JPEG claiming 6000x6000): above `dense_check_min_pixels`,
    # refused beyond this many pixels a byte. Camera photos and scans carry 10-1,400 (a flat
    # colour's WebP 20,000+).
    max_pixels_per_byte: int = 2_000
    dense_check_min_pixels: int = 4_000_000
    allowed_formats: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1:50051"
    # Above the decode gate's byte limit so that an oversized image reaches the gate and gets an
    # error for that message alone instead of ending the whole stream.
    max_message_bytes: int = 24 * 1024 * 1024
    grace_period_s: float = 5.0
    # Worker threads for image analysis, one per core: HOG, landmarks, OpenCV, NBIS and
    # onnxruntime release the GIL (dlib's ResNet and CNN do not). Models that must not be
    # shared are loaded once per thread (verifier.models.ModelPool).
    analysis_threads: int = 2
    # Analysis tasks allowed to wait for a thread; one more gets RESOURCE_EXHAUSTED at once.
    # Each stream has one message in work at a time, so this is about how many stations beyond
    # `analysis_threads` can be served at once (8 on a counter, 4x headroom). Unbounded, a
    # burst would wait where no station sees the end of the queue and hold its images (up to
    # max_message_bytes each) in memory.
    max_queued_tasks: int = 32
    # Mutual TLS (`verifier pki`): the server's certificate and key, the CA whose station
    # certificates are accepted, and its revocation list (re-read when it changes). Either
    # the first three together or none; without them `serve` stays on loopback unless told
    # --insecure.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    client_ca_file: str = ""
    crl_file: str = ""
    # Why: officers sign in at the station (CaptureService.SignIn). With TLS a SessionStart must
    # carry an officer token of the calling station; the case's officer is the token's. Off
    # only for tests of other things; plain text (loopback) takes the message's officer_id.
    require_officer_sign_in: bool = True
    # Why: an officer token opens sessions this long after sign-in (a resumed session's spooled
    # Start must arrive within it), and no longer.
    officer_token_minutes: int = 60
    # Limits (verifier.server.limits). Open CaptureService Session streams, server-wide: 8
    # counters with a reconnect each fit many times over; one more gets RESOURCE_EXHAUSTED.
    max_session_streams: int = 64
    # HTTP/2 streams one connection may have open (a station uses one; more wait client-side).
    max_concurrent_streams: int = 16
    # Session opens per client (certificate's station, else peer address): a token bucket
    # refilled at this rate, holding `session_open_burst`. A station opens one per visit and
    # one per reconnect (backing off 0.25-5 s); more is a loop or a flood.
    session_opens_per_minute: float = 120.0
    session_open_burst: int = 30
    # A Session stream with no message for this long, and nothing being worked on, is closed
    # (UNAVAILABLE; the station reconnects and resends). Stations are silent at most while a
    # scanner retries one finger (~35 s with SBI defaults); a close after more than their
    # 120 s give-up deadline without an ack would end their session, hence 300.
    session_idle_timeout_s: float = 300.0
    # Keepalive: ping a quiet connection after keepalive_time_s, drop it without an answer
    # within keepalive_timeout_s (a cut cable frees its streams in ~80 s, not TCP's ~15 min).
    keepalive_time_s: float = 60.0
    keepalive_timeout_s: float = 20.0
    # Clients pinging more often than this are sent away (GOAWAY too_many_pings).
    min_client_ping_interval_s: float = 30.0
    # A connection with no call for this long is closed; clients reconnect transparently.
    max_connection_idle_s: float = 300.0
    # Why: behind a load balancer a replica whose store does not answer must say so; health
    # turns NOT_SERVING when a `SELECT 1` fails or takes longer than this, checked this often.
    health_store_check_s: float = 5.0
    # Why: Kubernetes' gRPC probe presents no client certificate, which the mutual-TLS port
    # demands; this plain-text port answers grpc.health.v1 alone ("": none). deploy/k8s.
    health_listen: str = ""


@dataclass(frozen=True)
class SessionLimitsConfig:
    """What one counter session may send; beyond it a message gets RESOURCE_EXHAUSTED (and
    is not committed), so a stuck or hostile station cannot fill the store."""

    # 20 minutes of camera at the station's default 5 frames/s.
    max_frames: int = 6000
    # A KTP, an akta, the parents' KTPs, an old passport, rescans: 20 is generous.
    max_documents: int = 20
    # Ten fingers with three retries each.
    max_fingerprints: int = 40
    # Officers' corrections of read fields (a few per document); caps a stuck UI's resends.
    max_corrections: int = 40


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite:///verifier-cases.sqlite3"
    # PostgreSQL only (verifier.cases.engine). Why: a database gone or a stuck lock must
    # answer UNAVAILABLE (the station resends) well before the station's 30 s stall watchdog.
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 15000


@dataclass(frozen=True)
class FramingConfig:
    """Framing thresholds for live frames (the photo-requirements engine refines these)."""

    # Face box height as a share of frame height; below this the applicant must come closer.
    min_face_height_ratio: float = 0.30
    # Horizontal offset of the face centre from the frame centre, as a share of frame width.
    max_center_offset_ratio: float = 0.12
    # dlib HOG upsampling: 0 finds faces down to ~80 px at ~30 ms per 640x480 frame.
    detector_upsample: int = 0
    # HOG SVM margin below which a detection is ignored: margins under ~0.2 are mostly
    # face-like textures (skimage's astronaut has a 0.10 "face" on her suit's badge).
    min_detector_score: float = 0.3
    # With no face found, search again on the frame turned by +-this angle (HOG misses heads
    # tilted more than ~12 deg); 0 turns the second search off. Costs two more detections,
    # on frames without a face only.
    tilted_retry_deg: float = 15.0


# Requirement names in priority order: the first failing one is the hint the officer or
# applicant sees first (fix the framing before the lighting). See verifier/photo/requirements.py.
COUNTER_REQUIREMENTS = (
    "single_face", "face_size", "face_centred", "crop_room", "inter_eye_distance", "roll",
    "yaw", "pitch", "head_covering", "eyes_open", "mouth_closed", "neutral_expression",
    "glasses", "glasses_glare", "red_eye", "background", "illumination", "exposure",
    "sharpness", "natural_colour", "compression")
UPLOAD_REQUIREMENTS = (
    "image_format", "single_face", "head_size", "face_centred", "eye_height",
    "inter_eye_distance", "roll", "yaw", "pitch", "head_covering", "eyes_open", "mouth_closed",
    "neutral_expression", "glasses", "glasses_glare", "red_eye", "background", "illumination",
    "exposure", "sharpness", "natural_colour", "compression")


@dataclass(frozen=True)
class PhotoThresholds:
    """Thresholds of the passport-photo requirements for one profile (ICAO 9303 / ISO/IEC
    19794-5 full frontal, and the Indonesian rules in DESIGN.md section 4)."""

    requirements: tuple[str, ...] = UPLOAD_REQUIREMENTS
    # Chin-to-crown height as a share of the image height (upload: a finished photo).
    min_head_height_ratio: float = 0.70
    max_head_height_ratio: float = 0.80
    # Eye line, from the top, as a share of the image height.
    min_eye_height_ratio: float = 0.30
    max_eye_height_ratio: float = 0.50
    # Printed photos need >= 90 px between the eye centres; live frames are cropped and
    # scaled, so the counter asks for enough detail to scale up from.
    min_inter_eye_distance_px: float = 90.0
    # Head pose from 5 landmarks (solvePnP on a generic face) reads frontal faces of
    # different people several degrees apart (pitch most), so the limits are wider than
    # ICAO's +-5 deg to keep false alarms rare (bench/REPORT-photo.md).
    max_yaw_deg: float = 8.0
    max_pitch_deg: float = 10.0
    max_roll_deg: float = 8.0
    # Background: share of the visible background that is not plain white (too dark, too
    # colourful, textured or shadowed), from CIE L*a*b* on the region around the head.
    min_background_lightness: float = 75.0
    max_background_chroma: float = 12.0
    max_background_non_white_share: float = 0.10
    # Illumination: L* difference between the left and right cheek.
    max_face_lightness_difference: float = 14.0
    # Exposure: mean face L* and the share of face pixels clipped to black or white.
    min_face_lightness: float = 35.0
    max_face_lightness: float = 85.0
    max_face_clipped_share: float = 0.05
    # Sharpness: variance of the Laplacian of the eye band with the face scaled to 64 px
    # between the eyes (real photos 88-3000, the same blurred by 0.045 IED 6-22).
    min_face_sharpness: float = 40.0
    # Natural colour: skin hue angle (deg, CIE Lab) and chroma; grey photos have chroma ~0.
    min_skin_hue_deg: float = 20.0
    max_skin_hue_deg: float = 85.0
    min_skin_chroma: float = 8.0
    max_skin_chroma: float = 50.0
    # JPEG blockiness: mean step across 8x8 block borders over the mean step inside blocks;
    # on the astronaut ~1.4 at quality 70, ~1.9 at 30, ~3 at 10.
    max_blockiness: float = 2.0
    # Eyes open: lid-to-lid over corner-to-corner distance of the less open eye (open eyes
    # 0.31-0.55, closed 0.26-0.33; 0.30 keeps narrow and smiling Asian eyes passing, see
    # bench/REPORT-photo.md). Mouth: gap between the inner lips, and how far
    # the mouth corners sit above the lips' middle (a smile), in inter-eye distances.
    min_eye_openness: float = 0.30
    # Below this openness an eye also fails when the middle of its iris is not darker than
    # this share of the skin around the eye (a shut lid shows skin where the iris would be).
    iris_check_below_openness: float = 0.34
    max_iris_to_skin_lightness: float = 0.7
    max_mouth_gap_ied: float = 0.10
    max_mouth_corner_lift_ied: float = 0.07
    # Glare: share of near-white pixels over the worse eye's lens area.
    max_lens_glare_share: float = 0.02
    # Red eye: share of strongly red pixels in the pupil area of the worse eye.
    max_red_eye_share: float = 0.10
    # Glasses: in the band between the eyes, the largest share of a row's pixels with a
    # strong vertical gradient (a frame's bridge is a horizontal bar across the nose).
    max_bridge_row_edge_share: float = 0.2
    # Head covering: share of the forehead whose colour is not the cheeks' skin colour.
    max_forehead_covered_share: float = 0.5
    # Upload files: 3x4 cm (aspect 0.75) or 4x6 cm (aspect 0.667), printed at >= 300 dpi.
    print_sizes_cm: tuple[tuple[float, float], ...] = ((3.0, 4.0), (4.0, 6.0))
    max_aspect_error: float = 0.03
    min_print_dpi: float = 300.0


@dataclass(frozen=True)
class CaptureConfig:
    """Auto-capture at the counter and the passport crop cut from the accepted frame."""

    # Consecutive ready frames before a capture: a steady pose, not a lucky frame.
    steady_frames: int = 3
    # When a session's analyses take longer than this (a moving average, so the first,
    # warming-up call does not count alone), the CPU is overloaded: later frames of the
    # session are committed unanalysed until 1 / busy_max_analysed_fps has passed; with the
    # station's in-flight limit this keeps the wait per frame short instead of growing.
    busy_analysis_ms: float = 500.0
    busy_max_analysed_fps: float = 3.0
    # Passport geometry of the crop: 3:4 (3x4 cm); head (chin to crown) 75 % of the height.
    aspect_width_per_height: float = 0.75
    head_height_ratio: float = 0.75
    # Space above the crown as a share of the height; this puts the eyes at 45-50 % from
    # the top for typical hair (ISO/IEC 19794-5 asks for 30-50 %).
    crown_margin_ratio: float = 0.07
    # 4 cm at 381 dpi: the eyes end up ~115 px apart, above the 90 px a print needs.
    output_height_px: int = 600
    jpeg_quality: int = 92


@dataclass(frozen=True)
class PhotoConfig:
    """Passport-photo requirements: one threshold set per profile, and live capture."""

    upload: PhotoThresholds = field(default_factory=PhotoThresholds)
    counter: PhotoThresholds = field(default_factory=lambda: PhotoThresholds(
        requirements=COUNTER_REQUIREMENTS, min_inter_eye_distance_px=60.0))
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    # Uploads are detected on a copy scaled to this longest side (HOG cost grows with the
    # area; passport-photo faces stay far above HOG's ~80 px minimum at this size).
    detection_max_side_px: int = 640


@dataclass(frozen=True)
class FaceConfig:
    """Face verification (1:1 against document photos) and duplicate-identity search (1:N)."""

    # Distance thresholds per operating point, derived by bench/faces.py from measured
    # impostor distributions; the file says how each one was derived.
    thresholds_path: Path = MODELS_DIR / "face_thresholds.toml"
    # Operating point for live capture vs document photos; "FMR=1e-3" accepts about one
    # impostor in a thousand comparisons.
    operating_point: str = "FMR=1e-3"
    # 1:N compares a probe with every enrolled face and wants a stricter point than 1:1,
    # but 1e-3 is the strictest the Asian calibration pairs measure (5,936 card impostor pairs;
    # the thresholds file's FMR=1e-4 entry is capped at the 1e-3 distance, so naming it would
    # claim a rate nobody measured). Per comparison: a gallery of N faces gives about N/1000
    # false candidates a search, which is why a hit is REVIEW with both faces, never FAIL.
    gallery_operating_point: str = "FMR=1e-3"
    gallery_top_k: int = 5
    # Registry name of the face embedding model (verifier.face.embedders); the thresholds
    # file must have been measured on that model file, or start-up stops.
    embedder: str = "face_recognition_resnet"
    # Average the embeddings of the chip and its mirror image (one dlib batch of two chips);
    # thresholds must be measured with the same setting. On: at the deployed FMR=1e-3 it cut
    # the FNMR on held-out Asian and LFW pairs (bench/REPORT-faces.md).
    flip_tta: bool = True
    # 1 = no jitter (face_recognition's default); n > 1 averages n jittered copies at n x cost.
    num_jitters: int = 1
    # Detection cascade for document photos (see verifier.face.document_faces).
    max_side_px: int = 2000  # larger images are shrunk first (a 12 MP phone photo of a card)
    max_upsample: int = 2
    hog_max_side_px: int = 4000  # upsampling stops when the upsampled image would exceed this
    min_detector_score: float = 0.0  # HOG margin; documents have no suit badges, keep low
    cnn_fallback: bool = True  # ~1-2 s per image: documents only, never live frames
    cnn_max_side_px: int = 1200
    min_cnn_confidence: float = 0.3
    # Faces scoring below this (0-100, see verifier.face.embedding.face_quality) are named
    # as poor references in the flags: a mismatch on them may be the photo, not the person.
    min_quality: float = 40.0


FACE_GALLERY_ENGINES = ("numpy", "milvus")
MILVUS_INDEXES = ("HNSW", "IVF_FLAT", "FLAT")


@dataclass(frozen=True)
class FaceGalleryConfig:
    """Which engine searches the face gallery (verifier.galleries.open). The case store's
    face_gallery table stays the record either way; Milvus holds an index of it
    (verifier.galleries.milvus_face, which says why its vectors are not sealed)."""

    # "numpy": exact search in each process's memory (14 ms a probe at 1M, REPORT-faces.md);
    # "milvus": an approximate index shared by replicas (bench/REPORT-gallery-milvus.md).
    engine: str = "numpy"
    # "" = Milvus Lite in "<SQLite store file>.milvus.db" next to the store (one process at a
    # time); "http(s)://host:19530" = a Milvus standalone or cluster, needed with PostgreSQL.
    milvus_uri: str = ""
    milvus_token: str = ""  # "user:password" or an API key, for a Milvus with authentication
    milvus_timeout_s: float = 10.0
    # Collections are named "<this>_<embedder>": two case stores sharing one Milvus need two
    # prefixes, since each removes from its collections the rows its own table does not hold.
    milvus_collection: str = "face_gallery"
    # Build parameters apply when a collection is made (drop it to rebuild: it is refilled
    # from the case store at the next start); `hnsw_ef` / `ivf_nprobe` at every search.
    # HNSW ef 256: recall@1 0.992 at 1M structured generated embeddings, p95 6 ms for the
    # index (bench/REPORT-gallery-milvus.md); measure on real embeddings before relying on it.
    milvus_index: str = "HNSW"
    hnsw_m: int = 16
    hnsw_ef_construction: int = 200
    hnsw_ef: int = 256
    ivf_nlist: int = 1024
    ivf_nprobe: int = 32

    def __post_init__(self) -> None:
        if self.engine not in FACE_GALLERY_ENGINES:
            raise ValueError(f"[face_gallery] engine must be one of {FACE_GALLERY_ENGINES}, "
                             f"got {self.engine!r}")
        if self.milvus_index not in MILVUS_INDEXES:
            raise ValueError(f"[face_gallery] milvus_index must be one of {MILVUS_INDEXES}, "
                             f"got {self.milvus_index!r}")
        uri = self.milvus_uri
        if uri and not (uri.endswith(".db") or uri.startswith(("http://", "https://"))):
            raise ValueError("[face_gallery] milvus_uri must be a Milvus Lite file ending in "
                             f"\".db\" or an http(s):// Milvus server, got {uri!r}")


@dataclass(frozen=True)
class FingerprintConfig:
    """Fingerprint quality gating, templates and matching (see verifier.fingerprint)."""

    # NFIQ 2 (0-100) a capture must reach; MOSIP's registration client gates fingers at 40-60.
    min_nfiq2: int = 40
    # Below this resolution ridge detail is lost; closer resolutions are resampled to 500 ppi.
    min_ppi: int = 450
    max_ppi: int = 1200
    # Likely-cause measures on the 500 ppi image (16 px blocks; see verifier.fingerprint.quality).
    min_contact_area_mm2: float = 80.0
    dark_valley_grey: float = 110.0  # valleys (90th percentile) darker than this: too dark
    light_ridge_grey: float = 150.0  # ridges (10th percentile) lighter than this: too light
    min_ridge_contrast_grey: float = 35.0  # median block std below this: smudged or blurred
    # Bozorth3 score at which two prints are called the same finger, and the false-match rate
    # it was measured at: 7,140 impostor pairs of generated fingers (bench/fingerprints.py;
    # bench/REPORT-fingerprints.md). NIST's rule of thumb for Bozorth3 is 40.
    match_threshold: int = 44
    operating_point: str = "FMR=1e-3"
    # Keep raw fingerprint images in the case as well as the ISO/IEC 19794-2 templates.
    keep_images: bool = False
    # Declared exceptions (missing, amputated, bandaged fingers) beyond this count send the
    # case to review: it is also how a person would dodge the duplicate search. All ten
    # declared is a FAIL for a supervisor.
    max_exceptions_review: int = 2
    # Earlier cases the 1:N search compares exactly (Bozorth3, every shared finger) after
    # the index shortlists them: ten fingers put a planted duplicate first every time in
    # bench/REPORT-fingerprint-index.md, so 10 leaves a margin at 100 comparisons a Finish.
    # A probe of one finger carries far less evidence and gets a longer list.
    gallery_shortlist_cases: int = 10
    gallery_shortlist_cases_single_finger: int = 200
    # Why: fingerprint provenance (verifier.fingerprint.provenance). The SBI device keys whose
    # signed capture records attribute a print: one base64 Ed25519 key a line, the file the
    # station's `sbi://...?trust=` takes; re-read when it changes. Empty: no device is trusted.
    device_trust_file: str = ""
    # Why: a print no trusted device signed sends the case to review. False only for offices
    # without SBI devices: unattributed prints then pass unflagged (a forged record still fails).
    require_device_attestation: bool = True


@dataclass(frozen=True)
class CasesConfig:
    """Protection of the case store's personal data, its retention, and the review page."""

    # AES-256-GCM keys for evidence at rest: a file of "key_id base64" lines, the last one
    # active (`verifier keys init` / `verifier keys rotate`). Empty: `keys` below; with both
    # empty a SQLite store creates <database>.key next to its file, and a PostgreSQL store
    # refuses to start.
    key_file: str = ""
    # The same keys inline, "key_id:base64", the last one active (for secrets injected by
    # configuration management; rotate by adding a key and running `verifier keys reencrypt`).
    keys: tuple[str, ...] = ()
    # `verifier keys retire` waits this long after the key file last changed: running
    # processes reload it within a second, and a write they began before may still commit.
    key_retire_wait_seconds: float = 60.0
    # Evidence images and biometric templates older than this are purged by
    # `verifier retention purge`; the case record and decisions stay. Office policy decides.
    retention_days: int = 365
    review_listen: str = "127.0.0.1:8080"
    # A review-page login lasts this long without activity.
    review_session_minutes: int = 30
    # ...and this long at most, however active (a working day), then it signs in again.
    review_session_max_hours: int = 10
    # Reviewers and auditors need a TOTP second factor (`verifier users totp NAME`): evidence
    # is special personal data (UU PDP); a stolen password alone must not open it.
    review_require_totp: bool = True
    # Sign-ins (review page and officers) that did not succeed within the window, per account
    # and per client address, before further attempts are refused unchecked: slows guessing.
    sign_in_failures_per_account: int = 5
    sign_in_failures_per_client: int = 20
    sign_in_window_minutes: int = 15


@dataclass(frozen=True)
class DocumentsConfig:
    """Reading identity documents (KTP, akta kelahiran, passport MRZ)."""

    # A field read with less confidence (0-1) is listed for the officer to check by eye.
    min_field_confidence: float = 0.6
    # A document yielding fewer fields than this share of its kind's fields is "not read":
    # the officer is asked for a better photo or scan.
    min_fields_read_share: float = 0.7


@dataclass(frozen=True)
class PrecheckConfig:
    """Who may call PrecheckService, and its share of the verifier (so that a flood of uploads
    cannot starve the counters)."""

    # API keys for callers without a client certificate: "name role sha256hex" lines written
    # by `verifier precheck-keys add`; sent as `x-api-key` metadata. Empty: certificates only.
    api_keys_file: str = ""
    # Photo analyses in flight at once, out of [server] analysis_threads; the rest stay free
    # for the counters.
    max_concurrent: int = 1
    # Calls waiting for that share; one more gets RESOURCE_EXHAUSTED at once.
    max_waiting: int = 4
    # Photos per caller (certificate or key name, else peer address): a token bucket.
    photos_per_minute: float = 60.0
    photo_burst: int = 10


@dataclass(frozen=True)
class LivenessConfig:
    """Presentation attack detection at the counter (verifier.face.liveness): an active
    challenge chosen per session, verified across frames, plus passive cues against
    replays. What these defaults give on simulated attacks: bench/REPORT-liveness.md."""

    # Off by default: while on, auto-capture waits for the challenge, so a station must show
    # the Guidance's liveness prompt first. A deployment turns it on in its TOML file.
    enabled: bool = False
    # The actions a challenge is drawn from (blink, turn_left, turn_right, move_closer).
    actions: tuple[str, ...] = ("blink", "turn_left", "turn_right", "move_closer")
    # Actions asked in a row; with `require_turn` one of them is a turn, the only action a
    # flat print or a cut-out mask cannot perform (it has no depth to turn).
    steps: int = 2
    require_turn: bool = True
    # Each action must be seen between these many seconds after it was asked: earlier is a
    # pre-recorded response (or the frames in flight before the prompt was shown), later is
    # not an answer.
    min_reaction_s: float = 0.25
    response_timeout_s: float = 6.0
    # An action is seen when, against the frame at the moment it was asked: the less open
    # eye's openness falls below `blink_max_openness` and below `blink_max_ratio` x the baseline;
    # the yaw reaches `turn_min_yaw_deg` to the asked side (and moves by as much); the
    # inter-eye distance grows by `closer_min_growth`. A turn of this size to the other side
    # is a wrong answer.
    blink_max_openness: float = 0.34
    blink_max_ratio: float = 0.75
    turn_min_yaw_deg: float = 12.0
    closer_min_growth: float = 0.2
    # Passive cues (share of the session's face frames that must show them to fail it):
    # a screen's moiré (spectral peak score above `max_screen_score`, verifier.face.liveness.
    # passive);
    # the straight edges of a print or phone held around the face.
    max_screen_score: float = 3.6
    max_screen_share: float = 0.5
    max_border_share: float = 0.3
    # A face that never moves in depth or place (eye midpoint and inter-eye distance spread,
    # in IED units, below this over the session) is a still image, not a person.
    min_motion_ied: float = 0.004


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    session: SessionLimitsConfig = field(default_factory=SessionLimitsConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    imaging: ImagingConfig = field(default_factory=ImagingConfig)
    framing: FramingConfig = field(default_factory=FramingConfig)
    photo: PhotoConfig = field(default_factory=PhotoConfig)
    face: FaceConfig = field(default_factory=FaceConfig)
    # Which engine searches the face gallery (numpy, or Milvus past a province's size).
    face_gallery: FaceGalleryConfig = field(default_factory=FaceGalleryConfig)
    fingerprint: FingerprintConfig = field(default_factory=FingerprintConfig)
    cases: CasesConfig = field(default_factory=CasesConfig)
    documents: DocumentsConfig = field(default_factory=DocumentsConfig)
    precheck: PrecheckConfig = field(default_factory=PrecheckConfig)  # PrecheckService access
    liveness: LivenessConfig = field(default_factory=LivenessConfig)  # PAD at the counter
    models_registry: Path = MODELS_DIR / "registry.toml"


def _override(obj: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(f"unknown configuration key {where}{key}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ValueError(f"{where}{key} must be a table")
            changes[key] = _override(current, value, f"{where}{key}.")
        elif isinstance(current, Path):
            changes[key] = Path(value)
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        else:
            if not isinstance(value, type(current)) and not (
                    isinstance(current, float) and isinstance(value, int)):
                raise ValueError(f"{where}{key} must be {type(current).__name__}, got {value!r}")
            changes[key] = type(current)(value)
    return dataclasses.replace(obj, **changes)


def load_config(path: Path | None = None, **overrides: Any) -> Config:
    """Defaults, then the TOML file (if any), then `overrides` as nested dicts."""
    config = Config()
    if path is not None:
        with open(path, "rb") as fh:
            config = _override(config, tomllib.load(fh), "")
    if overrides:
        config = _override(config, overrides, "")
    return config

"""One counter session shown a simulated presenter (verifier/synthetic/liveness.py), in
process: what the liveness tests and bench/liveness.py both run."""

from __future__ import annotations

import uuid

import numpy as np

from verifier.consistency.verdict import Verdict
from verifier.counter_session import CounterSessions
from verifier.imaging import encode_jpeg
from verifier.synthetic.liveness import Drive, Presenter, drive


def counter_session(sessions: CounterSessions, presenter: Presenter, *, fps: float,
                    max_s: float, until_capture: bool, seed: int = 0,
                    full_name: str = "EILEEN") -> tuple[Verdict, Drive]:
    """Frames at `fps` (JPEG quality 90, as the station sends them) until the verifier
    accepts a photo or, not `until_capture`, stops asking; then Finish."""
    sid, seq = str(uuid.uuid4()), 1
    sessions.start(sid, seq, "loket-1", "petugas-7", {"full_name": full_name, "nik": ""})

    def send(rgb: np.ndarray, t_s: float) -> tuple[str | None, bool]:
        nonlocal seq
        seq += 1
        out = sessions.frame(sid, seq, encode_jpeg(rgb, 90), captured_at_unix_ms=int(t_s * 1000))
        if out.error is not None:
            raise out.error
        prompt = out.liveness_prompt
        return (prompt.action.value if prompt else None), out.capture_accepted

    driven = drive(presenter, send, fps=fps, max_s=max_s, seed=seed, until_capture=until_capture)
    verdict = sessions.finish(sid, seq + 1).verdict
    assert verdict is not None
    return verdict, driven

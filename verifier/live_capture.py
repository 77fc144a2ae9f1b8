"""Auto-capture state of a counter session, so that any replica can take the next frame.

What decides the photo lives in the case store, written by whichever replica analysed each
frame: the ready streak is read back from the latest analysed frame's stored result, and
"already captured" is the case's `capture_sequence`, set under the case's row lock
(`CaseStore.record_message`). A station that reconnects to another replica mid-streak keeps
its streak; two replicas never accept two photos for one case. A photo retake releases the
capture under the same lock, and the streak counts only frames sent after it.

What stays in process memory is this replica's own load: how long its frame analyses take
(`AnalysisPace`), which decides whether it can afford to analyse a station's next frame.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

# Weight of the newest analysis time in the per-session moving average.
_ANALYSIS_TIME_WEIGHT = 0.3
# A session silent this long on this replica has moved away or ended: forget its pace.
_FORGET_AFTER_S = 60.0


def counts_for_streak(frame_result: dict[str, Any]) -> bool:
    """An analysed frame's result; frames committed unanalysed (busy) leave the streak as
    it was."""
    return "ready_streak" in frame_result


def ready_streak(previous: dict[str, Any] | None, ready: bool) -> int:
    """The streak a frame makes: 0 when not ready, else one more than that of `previous`,
    the newest earlier frame that `counts_for_streak` (`CaseStore.live_capture`). Past 32
    unanalysed frames in a row the streak starts again."""
    if not ready:
        return 0
    return 1 if previous is None else int(previous["ready_streak"]) + 1


class AnalysisPace:
    """Per session on this replica: when its last frame analysis started and the moving
    average of their duration. Thread-safe; sessions not seen for a minute are dropped, so
    the table holds only the sessions this replica is serving now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def too_soon(self, case_id: str, now: float, busy_analysis_s: float,
                 max_analysed_fps: float) -> bool:
        """Skip this frame's analysis: this session's analyses take longer than
        `busy_analysis_s` on average and its last one started under 1/`max_analysed_fps`
        ago."""
        with self._lock:
            last = self._last.get(case_id)
        return (last is not None and last[1] > busy_analysis_s
                and now - last[0] < 1.0 / max_analysed_fps)

    def record(self, case_id: str, started: float, took_s: float) -> None:
        with self._lock:
            previous = self._last.pop(case_id, None)
            average = previous[1] if previous is not None else 0.0
            average += _ANALYSIS_TIME_WEIGHT * (took_s - average)
            self._last[case_id] = (started, average)
            while self._last:
                oldest, (seen, _) = next(iter(self._last.items()))
                if started - seen <= _FORGET_AFTER_S:
                    break
                del self._last[oldest]

    def forget(self, case_id: str) -> None:
        with self._lock:
            self._last.pop(case_id, None)

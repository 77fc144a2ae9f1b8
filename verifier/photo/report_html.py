"""A self-contained HTML report of photo pre-checks: each photo annotated, with its
requirement table. Images are embedded as data: URIs; nothing is loaded from elsewhere."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.imaging import encode_jpeg
from verifier.photo.annotate import annotated
from verifier.photo.assessment import PhotoAssessment

# align-items: a flex row would otherwise stretch the photo to the height of its table.
_STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}
.photo{display:flex;align-items:flex-start;gap:1.5em;border-top:1px solid #ccc;padding:1em 0}
.photo img{max-width:360px;height:auto;border:1px solid #999}
table{border-collapse:collapse;font-size:0.9em}td,th{padding:2px 8px;text-align:left}
tr.fail{background:#fde2e2}tr.unknown{background:#fff4d6}.pass{color:#070}.bad{color:#b00}"""


@dataclass(frozen=True)
class ReportEntry:
    name: str
    assessment: PhotoAssessment | None
    error: str | None = None


def _entry_html(e: ReportEntry) -> str:
    name = html.escape(e.name)
    if e.assessment is None:
        return (f'<div class="photo"><div><h3>{name}</h3><p class="bad">Tidak dapat diperiksa / '
                f'could not be checked: {html.escape(e.error or "")}</p></div></div>')
    a = e.assessment
    jpeg = base64.b64encode(encode_jpeg(annotated(a), 85)).decode("ascii")
    verdict = ('<span class="pass">MEMENUHI SYARAT / COMPLIANT</span>' if a.ready else
               '<span class="bad">TIDAK MEMENUHI SYARAT / NOT COMPLIANT</span>')
    rows = "".join(
        f'<tr class="{r.outcome.value}"><td>{html.escape(r.requirement)}</td>'
        f"<td>{r.outcome.value.upper()}</td><td>{r.value:.3g} {html.escape(r.unit)}</td>"
        f"<td>{r.threshold:.3g}</td><td>{r.score:.0f}</td>"
        f"<td>{html.escape(r.message_id)}<br><i>{html.escape(r.message_en)}</i></td></tr>"
        for r in a.requirements)
    return (f'<div class="photo"><img alt="{name}" src="data:image/jpeg;base64,{jpeg}">'
            f"<div><h3>{name}</h3><p>{verdict}</p><table><tr><th>requirement</th><th>outcome"
            f"</th><th>value</th><th>threshold</th><th>score</th><th>message</th></tr>{rows}"
            f"</table></div></div>")


def report_html(entries: Sequence[ReportEntry], profile: str) -> str:
    passed = sum(1 for e in entries if e.assessment is not None and e.assessment.ready)
    body = "".join(_entry_html(e) for e in entries)
    return (f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Pemeriksaan pas '
            f"foto / Photo pre-check</title><style>{_STYLE}</style></head><body><h1>Pemeriksaan "
            f"pas foto / Photo pre-check</h1><p>Profil / profile: {html.escape(profile)}. "
            f"{passed} dari {len(entries)} foto memenuhi syarat / {passed} of {len(entries)} "
            f"photos compliant. Kotak merah: bagian yang tidak memenuhi syarat / red: the "
            f"regions behind a failure.</p>{body}</body></html>\n")

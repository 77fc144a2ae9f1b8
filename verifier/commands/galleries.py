"""`verifier galleries rebuild`: enrol finished cases the galleries do not hold (a database
from before the galleries had their own tables, or one restored without them), or with
`--re-embed` enrol their faces again with the configured embedder (after `[face] embedder`
changed: the face gallery searches only the configured model's rows)."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from verifier.commands.common import add_json_option, config_from
from verifier.jsonout import write_json


def _rebuild(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store
    from verifier.consistency.case_evidence import LiveCapture, case_evidence
    from verifier.enrolment import enrol_case
    from verifier.face.evidence import face_evidence
    from verifier.galleries.open import open_galleries
    from verifier.imaging import decode_image
    from verifier.models import load_models

    config = config_from(args)
    store = open_store(config)
    models = load_models(config.models_registry, embedder=config.face.embedder)
    galleries = open_galleries(store, models, config)
    enrolled = faces_computed = 0
    for case_id in store.finished_case_ids():
        evidence = case_evidence(store.contents(case_id))
        capture = evidence.capture
        # Cases finished before faces were embedded on arrival, and with --re-embed every
        # case (its stored embedding is the model of its arrival, not necessarily the
        # configured one): embed the kept capture.
        if capture is not None and (capture.face is None or args.re_embed):
            data = store.payload(case_id, capture.sequence)
            # Without the capture nothing is enrolled rather than another model's vector.
            face = None if data is None else face_evidence(
                decode_image(data, config.imaging).rgb, models, config.face, live=True)
            evidence = dataclasses.replace(evidence, capture=LiveCapture(capture.sequence, face))
            faces_computed += face is not None
        enrol_case(galleries, evidence)  # replaces the case's entries: safe to rerun
        enrolled += 1
    print(f"enrolled {enrolled} finished cases ({faces_computed} live faces embedded from "
          "their stored capture)", file=sys.stderr)
    write_json(args.json, {"cases_enrolled": enrolled, "faces_embedded": faces_computed})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("galleries", help="duplicate-search galleries",
                       description="The face and fingerprint galleries every finished case "
                       "is enrolled in at its verdict (verifier/enrolment.py).")
    actions = p.add_subparsers(dest="galleries_command", required=True, metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="enrol every finished case again",
                                 description="Enrol every finished case from the case store "
                                 "(replacing its entries), embedding the live face from the "
                                 "stored capture where the case predates embedding on arrival.")
    rebuild.add_argument("--re-embed", action="store_true",
                         help="embed every case's live face again from its stored capture with "
                         "the configured [face] embedder (after changing it), instead of using "
                         "the embedding stored when the capture arrived")
    rebuild.add_argument("--db", metavar="URL|PATH",
                         help="case store: SQLAlchemy URL or SQLite file path (default from "
                         "config)")
    add_json_option(rebuild)
    rebuild.set_defaults(func=_rebuild)

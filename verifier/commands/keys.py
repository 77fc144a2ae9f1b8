"""`verifier keys`: create the evidence key file, rotate it (a new active key, everything
re-encrypted, the old keys kept), retire old keys once nothing is sealed with them, or
re-encrypt under the newest configured key.

Rotation never deletes a key: running verifiers and review pages follow the key file
(verifier.cases.crypto.KeyFileRing) and seal with the new key within a second, but until then,
and while a write they began before commits, they still seal with the old one. Retiring is
therefore a separate step, refused until the key file has been unchanged for
[cases].key_retire_wait_seconds, and then refused for any key that still seals a value or MACs
an audit entry (every value is counted)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.commands.common import add_json_option, config_from
from verifier.config import Config
from verifier.jsonout import write_json

if TYPE_CHECKING:
    from verifier.cases.store import CaseStore


def _key_file(args: argparse.Namespace, config: Config) -> Path:
    from verifier.cases.store import default_key_file

    if args.key_file:
        return Path(args.key_file)
    if config.cases.key_file:
        return Path(config.cases.key_file)
    if config.cases.keys:
        raise ValueError("the keys are inline in the configuration ([cases].keys): add a new "
                         "key there (last = active) and run `verifier keys reencrypt`")
    path = default_key_file(config.store.url)
    if path is None:
        raise ValueError("no key file configured: pass --key-file or set [cases].key_file")
    return path


def _init(args: argparse.Namespace) -> int:
    from verifier.cases.crypto import generate_ring, write_key_file

    path = Path(args.key_file)
    if path.exists():
        raise ValueError(f"{path} already exists; use `verifier keys rotate` to replace keys")
    ring = generate_ring()
    write_key_file(path, ring)
    print(f"created {path} with key {ring.active_id} (mode 0600; back it up apart from the "
          "database: without it the evidence cannot be read)", file=sys.stderr)
    write_json(args.json, {"key_file": str(path), "active_key": ring.active_id})
    return 0


def _reencrypt_gallery(store: CaseStore) -> int:
    """The duplicate-search galleries live in the same database, sealed alike (their NIK
    hashes are re-keyed too)."""
    from verifier.galleries.face import reencrypt_faces
    from verifier.galleries.fingerprints import reencrypt_fingerprints

    return (reencrypt_faces(store.engine, store.keys)
            + reencrypt_fingerprints(store.engine, store.keys))


def _rotate(args: argparse.Namespace) -> int:
    from verifier.cases.crypto import generate_ring, load_key_file, write_key_file
    from verifier.cases.store import CaseStore

    config = config_from(args)
    path = _key_file(args, config)
    old = load_key_file(path)
    ring = generate_ring(old)
    # The file holds old and new keys while values are re-sealed: an interrupted rotation
    # leaves every value readable, and running it again finishes the job.
    write_key_file(path, ring)
    store = CaseStore(config.store.url, ring)
    changed = store.reencrypt(ring) + _reencrypt_gallery(store)
    kept = sorted(old.keys)
    wait = config.cases.key_retire_wait_seconds
    print(f"new active key {ring.active_id}; {changed} values re-encrypted; old key(s) "
          f"{', '.join(kept)} kept. Running verifiers and review pages switch to the new key "
          f"within seconds; after {wait:.0f} s run `verifier keys reencrypt` for anything they "
          "sealed meanwhile, then `verifier keys retire`.", file=sys.stderr)
    write_json(args.json, {"key_file": str(path), "active_key": ring.active_id,
                           "reencrypted_values": changed, "kept_keys": kept})
    return 0


def _refuse_within_reload_window(path: Path, wait_s: float) -> None:
    """A process that has not yet seen the key file's last change (or is committing a write
    begun before it) may still seal with a key that the count below finds unused."""
    from verifier.cases.crypto import EvidenceKeyError

    age = time.time() - path.stat().st_mtime
    if age < wait_s:
        raise EvidenceKeyError(
            f"{path} changed {max(age, 0):.0f} s ago: running verifiers and review pages may "
            f"still be sealing with an older key. Retry in {wait_s - age:.0f} s (after "
            "`verifier keys reencrypt`); [cases].key_retire_wait_seconds sets the wait.")


def _retire(args: argparse.Namespace) -> int:
    from verifier.cases.crypto import EvidenceKeyError, load_key_file, write_key_file
    from verifier.cases.key_usage import key_ids_in_use
    from verifier.cases.store import CaseStore

    config = config_from(args)
    path = _key_file(args, config)
    ring = load_key_file(path)
    retiring = args.key_id or [k for k in ring.keys if k != ring.active_id]
    unknown = [k for k in retiring if k not in ring.keys]
    if unknown:
        raise ValueError(f"{path} has no key {', '.join(unknown)}")
    _refuse_within_reload_window(path, config.cases.key_retire_wait_seconds)
    store = CaseStore(config.store.url, ring)
    # Sealed values, and audit entries MACed with a key derived from it.
    in_use = key_ids_in_use(store.engine) + store.audit.mac_key_ids()
    busy = [f"{k} ({in_use[k]} values)" for k in retiring if in_use[k]]
    if busy:
        raise EvidenceKeyError(
            f"refusing to retire key(s) still sealing evidence: {', '.join(busy)}. Run "
            "`verifier keys reencrypt`, then retry.")
    write_key_file(path, ring.without(retiring))
    print(f"retired {len(retiring)} key(s) from {path}; active key {ring.active_id}",
          file=sys.stderr)
    write_json(args.json, {"key_file": str(path), "active_key": ring.active_id,
                           "retired_keys": retiring})
    return 0


def _reencrypt(args: argparse.Namespace) -> int:
    from verifier.cases.store import open_store

    store = open_store(config_from(args))
    changed = store.reencrypt(store.keys) + _reencrypt_gallery(store)
    print(f"{changed} values re-encrypted under {store.keys.active_id}", file=sys.stderr)
    write_json(args.json, {"active_key": store.keys.active_id, "reencrypted_values": changed})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="evidence encryption keys (AES-256-GCM)",
                       description="Evidence images, templates and personal data are sealed "
                       "with AES-256-GCM; these commands manage the keys.")
    actions = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create a new key file",
                              description="Create a key file with one new random key.")
    init.add_argument("--key-file", required=True, metavar="PATH", help="file to create")
    init.set_defaults(func=_init)
    rotate = actions.add_parser(
        "rotate", help="add a new active key and re-encrypt everything with it",
        description="Add a new active key to the key file and re-encrypt every stored value "
        "with it. The old keys stay in the file; running processes switch to the new key "
        "within seconds. Retire the old keys with `verifier keys retire` later.")
    rotate.set_defaults(func=_rotate)
    retire = actions.add_parser(
        "retire", help="remove old keys that no stored value is sealed with any more",
        description="Count every sealed value in the database by key and remove the given "
        "old keys (default: all but the active one) from the key file; refused while any "
        "value is still sealed with one of them, and for [cases].key_retire_wait_seconds "
        "after the key file last changed.")
    retire.add_argument("key_id", nargs="*", metavar="KEY_ID", help="keys to retire")
    retire.set_defaults(func=_retire)
    for action in (rotate, retire):
        action.add_argument("--key-file", metavar="PATH",
                            help="key file (default: [cases].key_file, or <database>.key)")
    reencrypt = actions.add_parser(
        "reencrypt", help="re-encrypt every value not sealed with the active key",
        description="Re-encrypt every stored value not sealed with the configured active "
        "key (the last one); the old keys must still be configured.")
    reencrypt.set_defaults(func=_reencrypt)
    for action in (init, rotate, retire, reencrypt):
        add_json_option(action)
    for action in (rotate, retire, reencrypt):
        action.add_argument("--db", metavar="URL|PATH",
                            help="case store: SQLAlchemy URL or SQLite file path "
                            "(default from config)")

"""Galleries persisted next to the case store: duplicate-identity search over earlier
applicants' faces (`face`; `milvus_face` searches the same rows in Milvus) and fingerprints
(`fingerprints`).

The database is the truth: every process writes rows there and each gallery object catches
up with rows written by others before it searches. Biometric columns are sealed with the
case store's evidence keys; the NIK is kept only as a keyed hash (`nik`), with a sealed copy
so that key rotation can re-hash it. The tables are made by the case store's Alembic
migrations (verifier/cases/migrations/versions/0002_galleries.py).

This package may read the case store's tables; the store and the domain packages
(verifier.face, verifier.fingerprint) never import it.
"""

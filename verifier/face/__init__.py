"""Face detection, landmarks and (later) embeddings and matching."""

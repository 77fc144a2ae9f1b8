"""The case store: sessions, messages, results and verdicts."""

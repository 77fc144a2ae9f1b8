"""Fuzzing harnesses (Hypothesis): the properties in `targets`, run briefly by
tests/test_fuzz.py and for minutes by bench/fuzz.py."""

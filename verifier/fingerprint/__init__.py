"""Fingerprints: quality (NFIQ 2), minutiae templates, matching, slot checks."""

"""Passport-photo requirements: one module per requirement, one assessment per image."""

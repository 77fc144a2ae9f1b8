"""The audit review web page: officers decide flagged cases with the evidence side by side."""

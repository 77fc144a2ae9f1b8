"""Generated from proto/verifier/api/v1 by tools/gen_proto.py; never edit by hand."""

"""Versioned gRPC contract; the modules beside this file are generated from proto/."""

"""gRPC servicers, error mapping and the server's life cycle. Thin: decode, call, encode."""

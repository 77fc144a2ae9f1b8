"""A small certificate authority for mutual TLS between capture stations and the verifier.

`authority` creates the CA, the server certificate and station certificates and keeps the
revocation list; `revocation` is what the server reads of that list. What a client (station,
health probe) needs to open a mutually authenticated channel is in the contract
(`lebong_contract.client_tls`).
"""

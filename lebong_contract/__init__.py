"""The wire contract between capture stations and the verifier: the gRPC code generated from
proto/ (`lebong_contract.api.v1`), the error hierarchy whose reasons go on the wire, the SBI
2.0 capture-record format both sides check, and the client side of mutual TLS and of the
verifier's health service."""

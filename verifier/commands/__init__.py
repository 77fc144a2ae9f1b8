"""One module per `verifier` subcommand; each has `register(subparsers)` and is listed in
verifier/cli.py."""

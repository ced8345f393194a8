"""One module per `chaosdrill` subcommand, each exposing register(subparsers)."""

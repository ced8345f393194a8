"""`python -m harness.proxy`: the fault proxy server alone, with the same options as `chaosdrill proxy-server`.

An entry point, like harness.cli: the only proxy module that may use the command-line layer.
"""

from __future__ import annotations

import sys

from harness.errors import UsageError
from harness.proxy.server import serve_forever


def main(argv: list[str] | None = None) -> int:
    import argparse

    from harness.commands.proxy_server import add_arguments, options_from_args

    parser = argparse.ArgumentParser(prog="python -m harness.proxy", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return serve_forever(options_from_args(args))
    except UsageError as exc:
        print(f"chaosdrill proxy-server: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())

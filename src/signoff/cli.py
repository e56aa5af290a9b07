"""The `signoff` command."""

from __future__ import annotations

import argparse
import sys

from signoff import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="signoff", description="Signoff approval center")
    parser.add_argument("--version", action="version", version=f"signoff {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

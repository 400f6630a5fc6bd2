"""Command line: `python -m healthmon COMMAND`; each command registers itself from its own module."""

from __future__ import annotations

import argparse
import sys

from healthmon import agent
from healthmon.analysis import replay
from healthmon.loadtest import cli as load_cli
from healthmon.quality import cli as quality_cli


def build_parser() -> argparse.ArgumentParser:
    """One parser with a subcommand per module, so commands are added without touching each other."""
    parser = argparse.ArgumentParser(prog="python -m healthmon", description="healthmon: an LLM health monitor")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    replay.add_parser(commands)
    agent.add_parser(commands)
    quality_cli.add_parser(commands)
    load_cli.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command; its return value is the exit code."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

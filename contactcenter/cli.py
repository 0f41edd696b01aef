"""The ``contactcenter`` command: validate a center's config, or watch the routing core work."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contactcenter.config import ConfigError, load_center
from contactcenter.demo import run_demo


def _check_config(args: argparse.Namespace) -> int:
    try:
        center = load_center(args.config_dir)
    except ConfigError as err:
        print(f"{args.config_dir}: {len(err.issues)} problem(s)", file=sys.stderr)
        for issue in err.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    channels = sorted({q.channel for q in center.queues.values()})
    print(
        f"{args.config_dir}: OK - {center.settings.name}: {len(center.queues)} queues "
        f"({', '.join(channels)}), {len(center.agents)} agents, "
        f"{len(center.settings.skills)} skills, {len(center.settings.tiers)} tiers"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    try:
        center = load_center(args.config_dir)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    for line in run_demo(center, contacts=args.contacts, seed=args.seed):
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contactcenter", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a center's config directory")
    check.add_argument("config_dir", type=Path)
    check.set_defaults(func=_check_config)
    demo = sub.add_parser("demo", help="run a short simulated shift through the routing core")
    demo.add_argument("config_dir", type=Path)
    demo.add_argument("--contacts", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

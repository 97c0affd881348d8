"""``python -m avvp_lib.experiments --list | --tables | --show NAME [--profile P] | --derive | --run NAME [--seed S]``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    import json
    import os

    import avvp_lib  # noqa: F401  (numerics pin before torch)
    from avvp_lib.experiments import describe, get, load_plugins, names, run, tables

    parser = argparse.ArgumentParser(prog="python -m avvp_lib.experiments")
    parser.add_argument("--list", action="store_true", help="every configuration, one a line, with its paper row")
    parser.add_argument("--tables", action="store_true", help="every derived table and its configurations")
    parser.add_argument("--derive", action="store_true", help="write results/*.csv from the records")
    parser.add_argument("--show", metavar="NAME", help="print NAME's configuration and recipe on --profile as JSON")
    parser.add_argument("--plugins", default=None,
                        help="methods of your own to import first (module names or .py files, comma-separated; "
                             "the same as AVVP_PLUGINS, which worker processes inherit)")
    parser.add_argument("--run", metavar="NAME", help="run one configuration")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    if args.profile not in ("quick", "full"):
        parser.error(f"--profile {args.profile}: expected quick or full")
    if args.plugins:
        os.environ["AVVP_PLUGINS"] = ",".join(p for p in (os.environ.get("AVVP_PLUGINS"), args.plugins) if p)
        load_plugins(args.plugins)
    if args.show:
        try:
            print(json.dumps(describe(args.show, args.profile), indent=2, default=str))
        except KeyError as error:
            parser.error(str(error.args[0]))
    if args.list:
        for name in names():
            exp = get(name)
            print(f"{name}\t{exp.features}\t{exp.paper_label}")
    if args.tables:
        for spec in tables().values():
            print(f"{spec.name} ({spec.engine}): {' '.join(spec.experiments)}")
    if args.run:
        record = run(args.run, args.seed, args.profile, args.data_root, args.device)
        print(f"{record['name']} seed {record['seed']}: config {record['config_hash']}, data {record['data_fingerprint']}")
    if args.derive:
        from avvp_lib.experiments.derived import write_tables

        write_tables()
    if not (args.list or args.tables or args.run or args.derive or args.show):
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m avvp_lib.numerics [--fingerprint]``: the CPU numerics in force, as JSON."""
from __future__ import annotations

from avvp_lib.numerics import describe
from avvp_lib.numerics.fingerprint import weights_fingerprint


def main(argv: list[str] | None = None) -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m avvp_lib.numerics",
                                     description="Show the CPU numerics in force; --fingerprint trains a tiny HAN.")
    parser.add_argument("--fingerprint", action="store_true", help="print the weights fingerprint too")
    args = parser.parse_args(argv)
    info = describe()
    if args.fingerprint:
        info["fingerprint"] = weights_fingerprint()
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()

"""Codemod: rename a Python identifier (whole words only) in the given files.

    python3 tools/rename_symbol.py mean average calc/stats.py tests/test_stats.py

With --alias MODULE, a deprecated alias `OLD = NEW` is appended to MODULE so old callers
keep working.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv):
    args = argv[1:]
    alias = None
    if "--alias" in args:
        at = args.index("--alias")
        alias = args[at + 1]
        del args[at : at + 2]
    if len(args) < 3:
        sys.exit("usage: rename_symbol.py OLD NEW FILE... [--alias MODULE]")
    old, new, files = args[0], args[1], args[2:]
    pattern = re.compile(rf"\b{re.escape(old)}\b")
    for name in files:
        path = ROOT / name
        text = path.read_text()
        renamed, count = pattern.subn(new, text)
        path.write_text(renamed)
        print(f"{name}: {count} occurrence(s) of {old} renamed to {new}")
    if alias:
        path = ROOT / alias
        text = path.read_text().rstrip("\n")
        path.write_text(f"{text}\n\n\n# Deprecated: use {new}.\n{old} = {new}\n")
        print(f"{alias}: alias {old} = {new} kept for old callers")


if __name__ == "__main__":
    main(sys.argv)

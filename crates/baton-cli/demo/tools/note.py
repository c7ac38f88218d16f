"""Records one change as a fragment: changes/<task>.md holding one line.

    python3 tools/note.py power "calc.arith: power(base, exponent)."
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: note.py TASK TEXT")
    task, text = argv[1], argv[2]
    path = ROOT / "changes" / f"{task}.md"
    path.write_text(f"- {text} ({task})\n")
    print(f"{path.relative_to(ROOT)}: {text}")


if __name__ == "__main__":
    main(sys.argv)

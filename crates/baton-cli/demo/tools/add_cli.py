"""Codemod: adds cli.py (python3 cli.py NUMBER... prints summary statistics) and its test.

The demo plan gives this task `retries: 1`. Its first attempt writes a draft with a bug
(numbers parsed with int()), so the task's test gate fails. baton then retries the task and
passes the failure in $BATON_FEEDBACK_FILE; this script reads it and writes the fixed version.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

CLI = '''"""Command line: python3 cli.py NUMBER... prints summary statistics."""

import sys

from calc.summary import describe


def main(argv):
    values = [{parse}(arg) for arg in argv]
    return " ".join(f"{{key}}={{value}}" for key, value in describe(values).items())


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python3 cli.py NUMBER...")
    print(main(sys.argv[1:]))
'''

TEST = '''import unittest

from cli import main


class CliTest(unittest.TestCase):
    def test_whole_numbers(self):
        self.assertEqual(
            main(["2", "4", "4", "4", "5", "5", "7", "9"]),
            "count=8 average=5.00 median=4.50 stdev=2.00 cv=40.0%",
        )

    def test_decimal_numbers(self):
        self.assertEqual(
            main(["1.5", "2.5"]), "count=2 average=2.00 median=2.00 stdev=0.50 cv=25.0%"
        )


if __name__ == "__main__":
    unittest.main()
'''


def main():
    attempt = os.environ.get("BATON_ATTEMPT", "1")
    feedback = os.environ.get("BATON_FEEDBACK_FILE")
    if feedback and os.path.exists(feedback):
        lines = pathlib.Path(feedback).read_text().splitlines()
        clues = [line for line in lines if "Error" in line or "FAIL" in line]
        print(f"attempt {attempt}: the previous attempt failed; clues from the feedback:")
        for line in clues[:5]:
            print(f"  | {line.strip()}")
        print("fix: parse the numbers with float() instead of int()")
        parse = "float"
    else:
        print(f"attempt {attempt}: no feedback yet; writing a first draft")
        parse = "int"
    (ROOT / "cli.py").write_text(CLI.format(parse=parse))
    (ROOT / "tests" / "test_cli.py").write_text(TEST)
    print("cli.py and tests/test_cli.py written")


if __name__ == "__main__":
    sys.exit(main())

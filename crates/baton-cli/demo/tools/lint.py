"""Lint: every Python file compiles, has no tabs or trailing spaces, and keeps lines to 100."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINE = 100


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not any(p.startswith(".") or p == "__pycache__" for p in parts):
            yield path


def main():
    problems = []
    count = 0
    for path in python_files():
        count += 1
        rel = path.relative_to(ROOT)
        text = path.read_text()
        try:
            compile(text, str(rel), "exec")
        except SyntaxError as error:
            problems.append(f"{rel}:{error.lineno}: {error.msg}")
        for number, line in enumerate(text.splitlines(), 1):
            if "\t" in line:
                problems.append(f"{rel}:{number}: tab character")
            if line != line.rstrip():
                problems.append(f"{rel}:{number}: trailing whitespace")
            if len(line) > MAX_LINE:
                problems.append(f"{rel}:{number}: line longer than {MAX_LINE}")
    for problem in problems:
        print(problem)
    print(f"lint: {count} files, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

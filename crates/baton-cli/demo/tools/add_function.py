"""Codemod: add the functions of a snippet to a module, and the snippet's tests.

    python3 tools/add_function.py calc/arith.py power

appends tools/snippets/power.py to calc/arith.py (creating the module if needed) and writes
tools/snippets/test_power.py to tests/test_arith_power.py. Running it twice changes nothing.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "tools" / "snippets"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: add_function.py MODULE SNIPPET")
    module, snippet = ROOT / argv[1], argv[2]
    code = (SNIPPETS / f"{snippet}.py").read_text()
    tests = (SNIPPETS / f"test_{snippet}.py").read_text()
    names = re.findall(r"^def (\w+)\(", code, re.MULTILINE)
    if module.exists():
        text = module.read_text()
        if re.search(r"^(import|from) ", code, re.MULTILINE):
            sys.exit(f"snippet {snippet} has imports; it can only create a new module")
        missing = [n for n in names if not re.search(rf"^def {n}\(", text, re.MULTILINE)]
        if missing:
            module.write_text(text.rstrip("\n") + "\n\n\n" + code)
            print(f"{argv[1]}: added {', '.join(missing)}")
        else:
            print(f"{argv[1]}: already has {', '.join(names)}")
    else:
        module.write_text(code)
        print(f"{argv[1]}: created with {', '.join(names)}")
    target = ROOT / "tests" / f"test_{module.stem}_{snippet}.py"
    target.write_text(tests)
    print(f"{target.relative_to(ROOT)}: written")


if __name__ == "__main__":
    main(sys.argv)

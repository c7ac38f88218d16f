"""Codemod: gives every calc module without a docstring one naming its public functions,
and adds tests/test_docstrings.py, which keeps it that way."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

TEST = '''import ast
import pathlib
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent


class DocstringsTest(unittest.TestCase):
    def test_every_module_names_its_public_functions_in_its_docstring(self):
        for path in sorted((ROOT / "calc").glob("*.py")):
            tree = ast.parse(path.read_text())
            doc = ast.get_docstring(tree)
            self.assertIsNotNone(doc, f"{path.name} has no docstring")
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    self.assertIn(node.name, doc, f"{path.name}: {node.name}")


if __name__ == "__main__":
    unittest.main()
'''


def public_functions(tree):
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    ]


def main():
    for path in sorted((ROOT / "calc").glob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        if ast.get_docstring(tree) is not None:
            continue
        names = ", ".join(public_functions(tree)) or "no public functions"
        doc = f'"""calc.{path.stem}: {names}."""'
        gap = "\n\n\n" if text.startswith("def ") else "\n\n"
        path.write_text(doc + gap + text)
        print(f"calc/{path.name}: docstring added ({names})")
    (ROOT / "tests" / "test_docstrings.py").write_text(TEST)
    print("tests/test_docstrings.py written")


if __name__ == "__main__":
    main()

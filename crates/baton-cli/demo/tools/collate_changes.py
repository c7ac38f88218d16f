"""Collates the change fragments changes/*.md into a new CHANGELOG.md section and removes
them (changes/README.md stays)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADING = "# Changelog\n\n"


def main(argv):
    version = argv[1] if len(argv) > 1 else "Unreleased"
    fragments = sorted(p for p in (ROOT / "changes").glob("*.md") if p.name != "README.md")
    if not fragments:
        print("no change fragments")
        return
    entries = "".join(p.read_text() for p in fragments)
    changelog = ROOT / "CHANGELOG.md"
    text = changelog.read_text()
    if not text.startswith(HEADING):
        sys.exit("CHANGELOG.md does not start with '# Changelog'")
    section = f"## {version}\n\n{entries}\n"
    changelog.write_text(HEADING + section + text[len(HEADING) :])
    for path in fragments:
        path.unlink()
    print(f"CHANGELOG.md: {len(fragments)} entries collated under {version}")


if __name__ == "__main__":
    main(sys.argv)

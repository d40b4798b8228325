"""Validate every KCIDB document the integration tests produced with
KCIDB's own schema validator (kcidb-io), exactly as KCIDB would.

Usage: validate_kcidb.py DIR
Fails if DIR holds no document, or if any document is invalid.
"""
import json
import pathlib
import sys

from kcidb_io.schema import V5_3


def main() -> int:
    directory = pathlib.Path(sys.argv[1])
    paths = sorted(directory.glob("*.json"))
    if not paths:
        print(f"no KCIDB documents in {directory}: the tests produced none")
        return 1
    failed = 0
    for path in paths:
        try:
            V5_3.validate_exactly(json.loads(path.read_text()))
        except Exception as e:  # report every bad document, not just the first
            failed += 1
            print(f"INVALID {path.name}: {str(e).splitlines()[0]}")
    print(f"kcidb: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

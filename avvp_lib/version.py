"""Package version and the code fingerprint stamped on every results row."""
from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"


def code_version() -> str:
    """Short SHA-256 over the package's Python sources: changes whenever any library code changes.

    Results rows carry it so that notebooks can flag numbers produced by older code.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

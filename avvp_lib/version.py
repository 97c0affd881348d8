"""Package version and the code fingerprint stamped on every results row."""
from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"


# Modules that only present, schedule or report numbers; editing them cannot change a result.
PRESENTATION_MODULES = ("plots.py", "course.py", "results.py", "stats.py", "sweeps.py", "version.py", "__init__.py")


def code_version() -> str:
    """Short SHA-256 over the library sources that compute numbers (data, models, losses, methods,
    metrics, trainer, ...): it changes whenever any of them changes.

    Results rows carry it so that notebooks can flag numbers produced by older code. Presentation
    modules (:data:`PRESENTATION_MODULES`: figures, tables, the notebook runner) are left out so
    that restyling a table does not mark every result stale.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if path.name in PRESENTATION_MODULES:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

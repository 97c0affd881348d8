"""Package version and the code fingerprint stamped on every results row."""
from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"


# Modules that only present, schedule or report numbers; editing them cannot change a result.
# ``numerics/`` only chooses which CPU kernels run (the last bits, never the method): not counted either.
PRESENTATION_MODULES = ("plots.py", "course.py", "results.py", "report.py", "stats.py", "sweeps.py", "version.py", "__init__.py",
                        "__main__.py", "paper.py", "comparisons.py", "empty_rule.py", "grid.py")
#: packages that only schedule, record or look up runs (``experiments/``: the registry, runner, records and
#: executors; what a run computes is fixed by its configuration, hashed into each record's ``config_hash``).
PRESENTATION_PACKAGES = ("experiments/", "numerics/")

#: modules that only one method family uses (paths relative to ``avvp_lib/``). Every other
#: number-computing module (data, metrics, trainer, HAN, ...) is shared and counts for every family.
FAMILY_MODULES = {
    "coleaf": ("models/coleaf.py", "losses/coleaf.py", "methods/coleaf.py"),
    "uwav": ("models/uwav.py", "losses/uwav.py", "methods/uwav.py", "pseudo_labels.py", "data/unav.py"),
    "link": ("models/link.py", "losses/link.py", "methods/link.py", "models/valor.py"),
}
#: results-row ``method`` -> family. HAN counts as CoLeaF's family because CoLeaF's ablation sweep
#: trains the HAN rows of its tables (conservative: a CoLeaF edit also marks HAN rows stale).
METHOD_FAMILY = {"HAN": "coleaf", "CoLeaF": "coleaf", "UWAV": "uwav", "pseudo-labels": "uwav",
                 "LINK": "link", "VALOR": "link"}


def code_version(method: str | None = None, root: str | Path | None = None) -> str:
    """Short SHA-256 over the library sources that compute ``method``'s numbers.

    Without ``method`` (or for a method not in :data:`METHOD_FAMILY`) every number-computing module
    counts. With one, the modules that belong only to *other* method families (:data:`FAMILY_MODULES`)
    are left out, so editing LINK does not mark CoLeaF's results stale. Presentation modules
    (:data:`PRESENTATION_MODULES`: figures, tables, the notebook runner) never count.

    Results rows carry it so that notebooks can flag numbers produced by older code. ``root``: the
    package folder to hash (default: this installed package; tests pass a copy).
    """
    family = METHOD_FAMILY.get(method) if method is not None else None
    excluded = {m for f, mods in FAMILY_MODULES.items() if family is not None and f != family for m in mods}
    return _digest(frozenset(excluded), Path(root) if root is not None else Path(__file__).resolve().parent)


def _digest(excluded: frozenset, root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if path.name in PRESENTATION_MODULES or rel in excluded or rel.startswith(PRESENTATION_PACKAGES):
            continue
        digest.update(rel.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

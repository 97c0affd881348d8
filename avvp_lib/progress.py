"""Training progress in a notebook: one output line, updated in place each epoch, that nbval never compares.

The line is a display output carrying the metadata key :data:`MARKER`; ``tests/nbval_tolerance.py`` drops such
outputs on both sides before comparing (a notebook committed from finished checkpoints has none, a fresh run has
one per training).
"""
from __future__ import annotations

MARKER = "avvp_progress"


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (JupyterLab, papermill, nbval)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class NotebookLine:
    """One updating text output: ``update(text)`` replaces what it shows."""

    def __init__(self, text: str = "[train] starting"):
        from IPython.display import display

        self._handle = display({"text/plain": text}, raw=True, metadata={MARKER: True}, display_id=True)

    def update(self, text: str) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": text}, raw=True, metadata={MARKER: True})

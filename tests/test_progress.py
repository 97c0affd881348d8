"""Training progress in a notebook: one line updated in place, dropped by the nbval plugin on both sides."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from avvp_lib import train
from tests.nbval_tolerance import without_progress

REPO = Path(__file__).resolve().parents[1]


def test_progress_mode_is_off_outside_a_notebook_and_the_variable_wins(monkeypatch):
    monkeypatch.delenv(train.PROGRESS_VARIABLE, raising=False)
    assert train.progress_mode() == "off"
    monkeypatch.setattr("avvp_lib.progress.in_notebook", lambda: True)
    assert train.progress_mode() == "notebook"
    monkeypatch.setenv(train.PROGRESS_VARIABLE, "lines")
    assert train.progress_mode() == "lines"


def test_without_progress_drops_only_marked_outputs():
    outputs = [{"output_type": "display_data", "metadata": {"avvp_progress": True}, "data": {"text/plain": "x"}},
               {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "y"}},
               {"output_type": "stream", "name": "stdout", "text": "z"}]
    assert without_progress(outputs) == outputs[1:]


def test_a_notebook_training_shows_one_updating_line_that_nbval_ignores(tiny_root, tmp_path):
    """Executed by papermill, a training cell holds one progress output (the last epoch's line); nbval run against a
    copy committed without it passes with the plugin and fails without it (the plugin is what makes it pass)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import avvp_lib\nfrom avvp_lib.data.dataset import load_split\nfrom avvp_lib.methods.mmil import HANMethod\n"
        "from avvp_lib.train import TrainConfig, fit\n"
        f"tr, va = load_split({str(tiny_root)!r}, 'train'), load_split({str(tiny_root)!r}, 'val')\n"
        "r = fit(HANMethod(d_model=32, ffn_dim=32), tr, va, TrainConfig(epochs=3, batch_size=16, device='cpu'))\n"
        "print('trained', len(r.history), 'epochs')")]
    nbformat.write(nb, tmp_path / "train.ipynb")
    subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", "ran.ipynb", "-k", "python3"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=300)
    outputs = json.loads((tmp_path / "ran.ipynb").read_text())["cells"][0]["outputs"]
    progress = [o for o in outputs if o.get("metadata", {}).get("avvp_progress")]
    assert len(progress) == 1 and "".join(progress[0]["data"]["text/plain"]).startswith("[train] epoch 3/3 loss")
    ran = json.loads((tmp_path / "ran.ipynb").read_text())
    ran["cells"][0]["outputs"] = without_progress(outputs)  # as committed from a finished checkpoint
    (tmp_path / "committed.ipynb").write_text(json.dumps(ran))
    env_path = {"PYTHONPATH": str(REPO)}

    def nbval(*plugin):
        return subprocess.run([sys.executable, "-m", "pytest", "--nbval", "committed.ipynb", "-q", "-p",
                               "no:cacheprovider", *plugin], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, **env_path}, timeout=300).returncode

    assert nbval("-p", "tests.nbval_tolerance") == 0
    assert nbval() != 0

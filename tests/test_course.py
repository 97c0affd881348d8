"""Notebook parameters: typos and missing folders fail with a message naming the bad value."""
from __future__ import annotations

from pathlib import Path

import pytest

from avvp_lib import course


def test_unknown_profile():
    with pytest.raises(course.ParameterError, match=r"profile='quik': expected one of \('quick', 'full'\)"):
        course.check_parameters("quik", None, 0, "auto")


def test_empty_data_root_is_not_the_current_folder():
    with pytest.raises(course.ParameterError, match="data_root='': expected None"):
        course.check_parameters("quick", "", 0, "auto")


def test_missing_data_root(tmp_path):
    with pytest.raises(course.ParameterError, match="does-not-exist' does not exist"):
        course.check_parameters("quick", tmp_path / "does-not-exist", 0, "auto")


def test_bad_seed_and_device():
    with pytest.raises(course.ParameterError, match="seed=-1"):
        course.check_parameters("quick", None, -1, "auto")
    with pytest.raises(course.ParameterError, match="device='tpu'"):
        course.check_parameters("quick", None, 0, "tpu")


def test_setup_on_an_existing_root(tiny_root):
    cfg = course.setup("quick", tiny_root, 0, "cpu")
    assert cfg["data_source"] == "synthetic" and str(cfg["device"]) == "cpu"


def test_notebooks_are_numbered_in_order():
    names = [p.name for p in course.notebooks()]
    assert names == sorted(names) and all(n[:2].isdigit() for n in names)


def test_strip_volatile_metadata_keeps_outputs(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    cell.metadata["papermill"] = {"duration": 0.5, "status": "completed"}
    cell.metadata["execution"] = {"iopub.execute_input": "2026-11-25T17:00:00"}
    nb.cells.append(cell)
    nb.metadata["papermill"] = {"input_path": "/home/someone/repo/notebooks/01_x.ipynb", "output_path": "/tmp/x/01_x.ipynb",
                                "duration": 3.2, "start_time": "t0", "end_time": "t1", "parameters": {"profile": "quick"}}
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    course.strip_volatile_metadata(path)
    back = nbformat.read(path, as_version=4)
    assert back.cells[0].outputs[0]["text"] == "1\n" and "papermill" not in back.cells[0].metadata
    assert "execution" not in back.cells[0].metadata
    assert back.metadata["papermill"] == {"input_path": "notebooks/01_x.ipynb", "output_path": "notebooks/01_x.ipynb",
                                          "parameters": {"profile": "quick"}}
    assert [p.name for p in tmp_path.iterdir()] == ["01_x.ipynb"]


def _notebook(path, source: str):
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("profile = 'quick'\ndevice = 'auto'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path.read_bytes()


def test_a_failing_in_place_execution_leaves_the_committed_notebook_unchanged(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    good = _notebook(folder / "01_ok.ipynb", "print('fine')")
    bad = _notebook(folder / "02_bad.ipynb", "raise RuntimeError('planted failure')")
    monkeypatch.setattr(course, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(course, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.setattr(course, "COMMITTED_FIGURE_DIR", tmp_path / "figures")
    monkeypatch.setenv("AVVP_FIGURE_DIR", str(tmp_path / "figures"))  # run_course sets it; restored after the test
    assert course.run_course("quick", None, in_place=True, keep_going=True) == 1
    assert (folder / "02_bad.ipynb").read_bytes() == bad  # untouched: the failed run went aside
    assert "planted failure" in (tmp_path / "runs" / "failed" / "02_bad.ipynb").read_text()
    assert (folder / "01_ok.ipynb").read_bytes() != good  # the one that ran to the end was replaced
    assert "fine" in (folder / "01_ok.ipynb").read_text()
    import json

    assert json.loads((folder / "01_ok.ipynb").read_text())["metadata"]["papermill"]["output_path"] == "notebooks/01_ok.ipynb"
    assert sorted(p.name for p in folder.iterdir()) == ["01_ok.ipynb", "02_bad.ipynb"]  # no scratch files left


def test_an_interrupted_in_place_execution_leaves_the_committed_notebook_unchanged(tmp_path, monkeypatch):
    import papermill

    folder = tmp_path / "notebooks"
    folder.mkdir()
    original = _notebook(folder / "01_x.ipynb", "print(1)")

    def interrupted(source, target, **kwargs):
        Path(target).write_text("half-written")
        raise KeyboardInterrupt

    monkeypatch.setattr(course, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(course, "COMMITTED_FIGURE_DIR", tmp_path / "figures")
    monkeypatch.setenv("AVVP_FIGURE_DIR", str(tmp_path / "figures"))  # run_course sets it; restored after the test
    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        course.run_course("quick", None, in_place=True)
    assert (folder / "01_x.ipynb").read_bytes() == original
    assert [p.name for p in folder.iterdir()] == ["01_x.ipynb"]


def test_the_course_command_rejects_a_bad_device_before_touching_a_notebook(capsys):
    with pytest.raises(SystemExit) as stop:
        course.main(["--in-place", "--only", "01", "--device", "tpu"])
    assert stop.value.code == 2
    assert "device='tpu'" in capsys.readouterr().err


def test_the_course_runs_copies_on_another_data_root_and_never_in_place(tmp_path, monkeypatch, capsys):
    import papermill

    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_a.ipynb", "print(1)")
    _notebook(folder / "10_levels.ipynb", "print(2)")
    root = tmp_path / "llp"
    root.mkdir()
    seen = []

    def execute(source, target, parameters=None, **kwargs):
        seen.append((Path(source).name, parameters))
        Path(target).write_text(Path(source).read_text())

    monkeypatch.setattr(course, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(course, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.setenv("AVVP_FIGURE_DIR", str(tmp_path / "figures"))
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr(course, "strip_volatile_metadata", lambda *a, **k: None)
    with pytest.raises(SystemExit) as stop:
        course.main(["--data-root", str(root), "--profile", "full"])
    assert stop.value.code == 0
    # every notebook but the synthetic levels' one, with the root passed as its data_root parameter
    assert seen == [("01_a.ipynb", {"profile": "full", "device": "auto", "data_root": str(root.resolve())})]
    assert (tmp_path / "runs" / "notebooks" / "full-llp" / "01_a.ipynb").is_file()
    assert "left out" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:  # the committed notebooks stay on the synthetic benchmark
        course.main(["--data-root", str(root), "--in-place"])
    assert stop.value.code == 2 and "--in-place with --data-root" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        course.main(["--data-root", str(tmp_path / "missing")])
    assert stop.value.code == 2 and "does not exist" in capsys.readouterr().err

"""A method in one file: a fixture package registers a toy method (``tests/fixtures/toy_method``) and it runs through
the registry, runner, record store and a derived table without any other file of the repository knowing it.

The toy runs in a subprocess (``AVVP_PLUGINS`` names its file), so this test process's registry stays the course's.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / "tests" / "fixtures" / "toy_method" / "toy_smoothing.py"


def _listing(*folders: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for f in folders if f.is_dir() for p in sorted(f.rglob("*")) if p.is_file()}


def _python(script: str, env_extra: dict, cwd: Path) -> str:
    env = {**os.environ, **env_extra}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_toy_method_in_one_file_runs_through_registry_runner_records_and_a_table(tiny_root, tmp_path):
    committed = _listing(REPO / "results", REPO / "figures")
    toy_copy = tmp_path / "toy_smoothing.py"  # a copy, so the test can edit it and see its code version move
    toy_copy.write_text(TOY.read_text())
    script = f"""
    import json
    from pathlib import Path
    from avvp_lib import experiments as X, report, sweeps
    from avvp_lib.experiments import records
    from avvp_lib.experiments.derived import write_tables
    from avvp_lib.experiments.runner import context, provenance
    from avvp_lib.results import config_hash
    from avvp_lib.version import code_version

    out = {{}}
    fam = X.families()["toy-ls"]
    out["modules"] = list(fam.modules)
    out["show"] = X.describe("toy-ls/eps=0.1", "full")
    store = records.RecordStore(Path({str(tmp_path)!r}) / "results" / "records")
    rec = X.run("toy-ls/eps=0.1", 0, "quick", {str(tiny_root)!r}, "cpu", store=store,
                runs_dir=Path({str(tmp_path)!r}) / "runs", predictions_dir=Path({str(tmp_path)!r}) / "predictions",
                verbose=False)
    ctx = context("quick", {str(tiny_root)!r}, "cpu")
    out["record"] = {{k: rec[k] for k in ("name", "method", "variant", "config_hash", "code_version")}}
    out["copied"] = "copied_from" in rec["extra"]
    out["han_hash"] = config_hash(provenance("han/main", 0, ctx))
    written = write_tables(store, Path({str(tmp_path)!r}) / "results", verbose=False)
    out["tables"] = sorted(written)
    out["course_tables_read"] = sorted(report.read_all_results(Path({str(tmp_path)!r}) / "results"))
    out["plan_only"] = sweeps.plan(["toy-ls"], main=False, tables=["toy_ls"])
    out["plan_tables"] = sweeps.plan(None, main=False, tables=["toy_ls"])
    out["plan_main"] = sweeps.plan(["toy-ls"])
    out["versions"] = [code_version("Toy-LS"), code_version("HAN")]
    print("RESULT" + json.dumps(out))
    """
    stdout = _python(script, {"AVVP_PLUGINS": str(toy_copy)}, tmp_path)
    out = json.loads(stdout.split("RESULT", 1)[1])
    assert out["modules"] == [str(toy_copy.resolve())]  # the family's one module is its own file
    show = out["show"]["configuration"]
    assert show["class"].endswith("SmoothedHAN") and show["config"] == {"eps": 0.1} and show["train"]["epochs"] == 2
    assert out["record"]["name"] == "toy-ls/eps=0.1" and out["record"]["method"] == "Toy-LS"
    assert not out["copied"] and out["record"]["config_hash"] != out["han_hash"]
    assert out["tables"] == ["toy_ls"]  # only its own table: the course's have no record here
    assert out["course_tables_read"] == []  # notebooks read course tables only: the toy's never shows there
    assert out["plan_only"] == out["plan_tables"] == ["toy-ls/eps=0.1"]
    assert out["plan_main"] == []  # the toy is in no course table
    toy_version, han_version = out["versions"]
    assert toy_version != han_version
    frame = (tmp_path / "results" / "toy_ls.csv").read_text().splitlines()
    assert len(frame) == 2 and frame[1].startswith("Toy-LS,eps=0.1,0,")
    # editing the method's file moves its code version, and only its own
    toy_copy.write_text(toy_copy.read_text() + "\n# edited\n")
    again = _python("""
    from avvp_lib import experiments
    from avvp_lib.version import code_version
    print("RESULT", code_version("Toy-LS"), code_version("HAN"))
    """, {"AVVP_PLUGINS": str(toy_copy)}, tmp_path).split("RESULT", 1)[1].split()
    assert again[0] != toy_version and again[1] == han_version
    assert _listing(REPO / "results", REPO / "figures") == committed  # nothing of the repository was written


def test_an_adapter_that_changes_build_but_not_provenance_never_shares_a_record(tiny_root, tmp_path):
    """The trap: a subclass of the HAN adapter with another ``build`` and the inherited ``provenance`` used to hash
    like han/main and be handed han/main's record. Its runs now carry the adapter's class in the hash, and a record
    is copied across names only between identical configurations."""
    script = f"""
    from dataclasses import replace
    from pathlib import Path
    from avvp_lib import experiments as X
    from avvp_lib.experiments import records
    from avvp_lib.experiments.adapters import HANAdapter
    from avvp_lib.experiments.registry import Family, register, register_family
    from avvp_lib.experiments.runner import context, provenance, same_configuration
    from avvp_lib.results import config_hash

    class Other(HANAdapter):
        def build(self, exp, ctx, seed):
            raise AssertionError("not trained in this test")

    register_family(Family("han-other", methods=("HAN-other",)))
    register(replace(X.get("han/main"), name="han-other/x", method="HAN-other", adapter=Other()))
    register_family(Family("han-alias", methods=("HAN-alias",)))
    register(replace(X.get("han/main"), name="han-alias/x", method="HAN-alias"))
    ctx = context("quick", {str(tiny_root)!r}, "cpu")
    print("RESULT", config_hash(provenance("han-other/x", 0, ctx)) != config_hash(provenance("han/main", 0, ctx)),
          same_configuration("han-other/x", "han/main"), same_configuration("han-alias/x", "han/main"),
          config_hash(provenance("han-alias/x", 0, ctx)) == config_hash(provenance("han/main", 0, ctx)))
    """
    flags = _python(script, {}, tmp_path).split("RESULT", 1)[1].split()
    assert flags == ["True", "False", "True", "True"]


def test_show_prints_a_configuration_as_json_without_data(tmp_path):
    done = subprocess.run([sys.executable, "-m", "avvp_lib.experiments", "--show", "han/main", "--profile", "full"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["recipe"]["epochs"] == 40 and shown["recipe"]["batch_size"] == 16  # HAN's official recipe
    assert shown["configuration"]["han"]["d_model"] == 512 and shown["family"] == "han"
    bad = subprocess.run([sys.executable, "-m", "avvp_lib.experiments", "--show", "han/nope"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "han/main" in bad.stderr  # the unknown name lists its family's names


def test_a_method_label_of_another_family_is_refused():
    from avvp_lib.experiments.registry import Family, register_family

    with pytest.raises(ValueError, match="already belong to family"):
        register_family(Family("my-han", methods=("HAN",)))

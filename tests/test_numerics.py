"""Pinned CPU numerics (avvp_lib.numerics): what is pinned, that the pin decides the bits, the fingerprint.

Every training runs in a fresh process, because the kernel path is fixed when torch first computes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from avvp_lib import numerics

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "reference" / "numerics_fingerprint.json"
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS", numerics.OPT_OUT_VARIABLE, numerics.THREADS_VARIABLE)


def fingerprint_in_fresh_process(**env_changes) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_VARIABLES}
    env |= {k: v for k, v in env_changes.items() if v is not None}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "avvp_lib.numerics", "--fingerprint"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_pinned_environment_per_isa_class():
    avx2 = numerics.pinned_environment("x86_64-avx2", threads=1)
    assert avx2 == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "avx2",
                    "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    base = numerics.pinned_environment("x86_64-baseline", threads=3)
    assert base["ATEN_CPU_CAPABILITY"] == "default" and base["MKL_CBWR"] == "COMPATIBLE" and base["OMP_NUM_THREADS"] == "3"
    # ARM (Apple Silicon, Graviton): no MKL, one ATen path - only the threads are pinned
    assert numerics.pinned_environment("arm64", threads=1) == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_isa_class_from_flags():
    assert numerics.isa_class("x86_64", frozenset({"sse2", "avx", "avx2", "fma", "avx512f"})) == "x86_64-avx2"
    assert numerics.isa_class("x86_64", frozenset({"sse2", "avx"})) == "x86_64-baseline"
    assert numerics.isa_class("arm64", frozenset()) == "arm64"


def test_bad_opt_out_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(numerics.OPT_OUT_VARIABLE, "fast")
    with pytest.raises(ValueError, match=r"AVVP_NUMERICS='fast': expected one of \('pinned', 'native'\)"):
        numerics.mode()


def test_this_process_runs_the_pinned_kernels():
    import torch

    info = numerics.describe()
    if info["mode"] == "native":
        pytest.skip("AVVP_NUMERICS=native: nothing pinned in this run")
    wanted = info["pinned"].get("ATEN_CPU_CAPABILITY")
    if wanted is not None:
        assert torch.backends.cpu.get_cpu_capability().lower() == wanted
    assert numerics.check() is None


@pytest.mark.skipif(numerics.isa_class() != "x86_64-avx2", reason="the ISA stand-ins below need an AVX2 x86-64 CPU")
def test_pin_decides_the_bits_whatever_isa_the_machine_would_pick():
    """Pinned, the weights are the same whichever kernels the machine would choose by itself (asked for
    here through the variables an AVX-512 machine or an MKL AVX-512 dispatch stands for); opted out,
    those same variables change the bits - so the pin is what makes them equal, not luck."""
    pinned = fingerprint_in_fresh_process()
    as_avx512 = fingerprint_in_fresh_process(ATEN_CPU_CAPABILITY="avx512", MKL_ENABLE_INSTRUCTIONS="AVX512",
                                             MKL_CBWR="AUTO")
    assert pinned["mode"] == "pinned" and pinned["aten_capability"] == "AVX2"
    assert as_avx512["fingerprint"] == pinned["fingerprint"]
    native_default = fingerprint_in_fresh_process(AVVP_NUMERICS="native", ATEN_CPU_CAPABILITY="default")
    native_avx2 = fingerprint_in_fresh_process(AVVP_NUMERICS="native", ATEN_CPU_CAPABILITY="avx2", OMP_NUM_THREADS="1")
    assert native_default["aten_capability"] == "DEFAULT"
    assert native_default["fingerprint"] != native_avx2["fingerprint"]


def test_weights_fingerprint_matches_the_recorded_one():
    """The tiny training's weights hash equals the one recorded for this CPU class
    (``tests/reference/numerics_fingerprint.json``). Verified bit for bit only on the vendor listed
    there; on another vendor's AVX2 CPU a mismatch is an expected failure (MKL documents bitwise
    equality across vendors for its COMPATIBLE branch only) and a match is reported as XPASS."""
    reference = json.loads(REFERENCE.read_text())
    info = fingerprint_in_fresh_process()
    key = info["isa_class"]
    if info["mode"] != "pinned" or key not in reference["fingerprints"]:
        pytest.skip(f"no recorded fingerprint for {key} in {info['mode']} mode (recorded: {sorted(reference['fingerprints'])})")
    if info["torch"].split("+")[0] != reference["torch"]:
        pytest.skip(f"fingerprint recorded with torch {reference['torch']}, this is {info['torch']} (constraints.txt)")
    recorded = reference["fingerprints"][key]
    if info["fingerprint"] != recorded["fingerprint"]:
        if info["cpu_vendor"] not in recorded["verified_vendors"]:
            pytest.xfail(f"{info['cpu_vendor']} ({info['cpu_model']}) computes {info['fingerprint']}, recorded "
                         f"{recorded['fingerprint']} on {recorded['verified_vendors']}: bits differ across vendors; "
                         f"the notebook check's tolerance covers it")
        pytest.fail(f"fingerprint {info['fingerprint']} != recorded {recorded['fingerprint']} on a verified vendor "
                    f"({info['cpu_vendor']}, torch {info['torch']}): the training numerics changed")

"""Pinned CPU numerics: the one place that fixes which CPU kernels torch runs, before torch loads.

Why: torch picks its CPU kernels by processor. ATen's vectorised kernels (reductions, softmax,
elementwise maths) exist for several ISA levels (``DEFAULT``, ``AVX2``, ``AVX512``), MKL's GEMM has
one branch per processor generation, and oneDNN dispatches by ISA too. Each sums in its own order,
so one 12-epoch training ends with other last bits on an AVX-512 machine than on an AVX2 one, and 40
epochs turn the last bit into another best epoch. :func:`pin` removes the choice:

================  =====================================  ======================================
variable          x86-64 with AVX2 + FMA (2013+ Intel,   other x86-64 (no AVX2)
                  2015+ AMD)
================  =====================================  ======================================
ATEN_CPU_         ``avx2``                               ``default``
CAPABILITY
MKL_CBWR          ``AVX2`` (MKL's conditional            ``COMPATIBLE``
                  numerical reproducibility branch)
ONEDNN_MAX_       ``AVX2``                               ``SSE41``
CPU_ISA
OMP_NUM_THREADS,  ``AVVP_NUM_THREADS`` or 1              same
MKL_NUM_THREADS
================  =====================================  ======================================

On other processors (ARM: Apple Silicon, Graviton) there is no MKL and ATen has its own single path;
only the thread count is pinned. GPUs are not affected (cuBLAS/cuDNN choose their own kernels).

``MKL_ENABLE_INSTRUCTIONS`` is pinned too (``AVX2``): on an Intel CPU with AVX-512, MKL honours that
variable even under ``MKL_CBWR=AVX2`` and changes the bits (measured on an Intel Xeon; on AMD, MKL never
takes its AVX-512 path, so the variable changes nothing there).

What this buys, measured (README, "Numerics"): the same weights bit for bit on one x86-64 machine
whatever ISA level it would pick by itself (an AVX-512 machine computes what an AVX2 one does). Across
vendors MKL's AVX2 branch is *not* vendor-independent: the tiny fingerprint training gives
``ab4114b534c001c5`` on AMD EPYC and ``c9d6e6cf652fcebb`` on Intel Xeon under the same pin, so the
notebook check compares training-dependent outputs with a seed-noise tolerance
(``tests/nbval_tolerance.py``).

Modes (``AVVP_NUMERICS``):

* ``pinned`` (default): the table above.
* ``portable``: as pinned, with ``MKL_CBWR=COMPATIBLE`` - MKL's vendor-independent branch. The
  fingerprint is ``a50a4e6704f37ed8`` on both AMD EPYC and Intel Xeon (the same bits on any x86-64 with
  AVX2), at a measured 2.5x the HAN training time (2 quick epochs: 24 s pinned, 60 s portable, AMD
  EPYC, one thread). Not the default for that cost.
* ``perturbed``: as pinned, and every training nudges its weights at the start of every epoch by a
  deterministic relative ``PERTURBATION`` (:func:`perturb_`), so every trained number moves in its last
  bits the way another machine's kernels move them, while data generation, label parsing and metrics stay exact. One
  machine uses it to see what another machine would print (the notebook check runs under it in CI).
* ``native``: torch's own choices (fastest kernels, machine-dependent last bits; benchmarks may use it).

``pin`` runs when ``avvp_lib`` is imported, so import ``avvp_lib`` before torch runs its first kernel;
:func:`check` warns when the pin came too late. Importing ``avvp_lib`` therefore sets these variables
in the process environment (and one CPU thread): set ``AVVP_NUMERICS=native`` before the import to
keep your own.
"""
from __future__ import annotations

import os
import platform
import subprocess
import warnings

OPT_OUT_VARIABLE = "AVVP_NUMERICS"
THREADS_VARIABLE = "AVVP_NUM_THREADS"
MODES = ("pinned", "portable", "perturbed", "native")
#: relative size of the perturbed mode's nudge to initial weights (float32 resolves 1.2e-7)
PERTURBATION = 1e-6
#: the fixed seed of the nudge, independent of the training seed and of torch's global generator
PERTURBATION_SEED = 20261206

_state: dict = {}


def cpu_flags() -> frozenset[str]:
    """Lower-case ISA flags of this CPU (Linux ``/proc/cpuinfo``, macOS ``sysctl``); empty if unknown."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].lower().split())
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            text = subprocess.run(["sysctl", "-n", "machdep.cpu.features", "machdep.cpu.leaf7_features"],
                                  capture_output=True, text=True, timeout=5).stdout
            return frozenset(text.lower().replace(".", "_").split())
        except (OSError, subprocess.SubprocessError):
            pass
    return frozenset()


def cpu_vendor() -> str:
    """``GenuineIntel``, ``AuthenticAMD``, ... (x86), else the machine type (``arm64``, ``aarch64``)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine() or "unknown"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def isa_class(machine: str | None = None, flags: frozenset[str] | None = None) -> str:
    """``x86_64-avx2`` (AVX2 and FMA present), ``x86_64-baseline``, or the machine type (``arm64``...)."""
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64", "i686", "i386", "x86"):
        return machine or "unknown"
    flags = cpu_flags() if flags is None else flags
    return "x86_64-avx2" if {"avx2", "fma"} <= set(flags) else "x86_64-baseline"


def pinned_environment(isa: str | None = None, threads: int | None = None, portable: bool = False) -> dict[str, str]:
    """The variables :func:`pin` sets for an ISA class (see the module table); ``portable``: MKL's
    vendor-independent ``COMPATIBLE`` branch instead of its AVX2 one."""
    isa = isa_class() if isa is None else isa
    if threads is None:
        threads = int(os.environ.get(THREADS_VARIABLE, "1"))
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if isa == "x86_64-avx2":
        env |= {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE" if portable else "AVX2",
                "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    elif isa == "x86_64-baseline":
        env |= {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}
    return env


def mode() -> str:
    """The value of ``AVVP_NUMERICS`` (default ``pinned``); anything outside :data:`MODES` is an error that
    names the variable."""
    value = os.environ.get(OPT_OUT_VARIABLE, "pinned").strip().lower() or "pinned"
    if value not in MODES:
        raise ValueError(f"{OPT_OUT_VARIABLE}={value!r}: expected one of {MODES}")
    return value


def pin() -> dict[str, str]:
    """Set the pinned variables in ``os.environ`` (so child processes - notebook kernels, sweep
    workers - inherit them) unless opted out. Returns what was set. Idempotent."""
    if mode() == "native":
        _state.update(mode="native", environment={})
        return {}
    current = mode()
    env = pinned_environment(portable=current == "portable")
    os.environ.update(env)
    _state.update(mode=current, environment=env)
    return env


def check() -> str | None:
    """After torch has loaded: warn (and return the message) when torch runs another ATen kernel path
    than the pinned one - torch ran kernels before ``avvp_lib`` was imported."""
    import torch

    wanted = _state.get("environment", {}).get("ATEN_CPU_CAPABILITY")
    actual = torch.backends.cpu.get_cpu_capability()
    if _state.get("mode") in (None, "native") or wanted is None or actual.lower() == wanted.lower():
        return None
    message = (f"avvp_lib pinned ATEN_CPU_CAPABILITY={wanted} but torch already runs {actual} kernels: import "
               f"avvp_lib before torch computes anything (or set {OPT_OUT_VARIABLE}=native to silence this)")
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    return message


def describe() -> dict:
    """What this process computes with: mode, the pinned variables, CPU, torch's kernel path."""
    info = {"mode": _state.get("mode", mode()), "isa_class": isa_class(), "cpu_vendor": cpu_vendor(),
            "cpu_model": cpu_model(),
            "pinned": dict(_state["environment"]) if "environment" in _state else
            (pinned_environment(portable=mode() == "portable") if mode() != "native" else {})}
    try:
        import torch

        info |= {"torch": torch.__version__, "aten_capability": torch.backends.cpu.get_cpu_capability(),
                 "mkl": bool(torch.backends.mkl.is_available()), "threads": torch.get_num_threads(),
                 "cuda": torch.cuda.is_available()}
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def perturb_(module, epoch: int = 0, enabled: bool | None = None):
    """Perturbed mode (``AVVP_NUMERICS=perturbed``): multiply every floating-point parameter of
    ``module`` in place by ``1 + PERTURBATION * z`` with ``z`` standard normal, drawn from a generator
    seeded with ``PERTURBATION_SEED + epoch`` (never torch's global one, so dropout masks and batch
    orders are the same as unperturbed). The trainers call it at the start of every epoch - another
    machine's kernels round differently at every step, not only once - and in any other mode it does
    nothing. Deterministic: a resumed run is nudged as an uninterrupted one. Returns ``module``."""
    import torch

    if enabled is None:
        enabled = _state.get("mode", mode()) == "perturbed"
    if not enabled:
        return module
    gen = torch.Generator().manual_seed(PERTURBATION_SEED + int(epoch))
    with torch.no_grad():
        for param in module.parameters():
            if param.is_floating_point():
                z = torch.randn(param.shape, generator=gen, dtype=torch.float32).to(param.device, param.dtype)
                param.mul_(1 + PERTURBATION * z)
    return module

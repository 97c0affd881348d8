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

What this buys, measured (README, "Numerics"): the same weights bit for bit on one x86-64 machine
whatever ISA level it would pick by itself (an AVX-512 machine computes what an AVX2 one does), and
every variable above changes the bits when set alone, so each is needed. Across vendors (Intel vs
AMD) the bits are equal only if MKL's AVX2 branch is vendor-independent, which MKL documents for its
``COMPATIBLE`` branch only; the notebook check therefore compares training-dependent outputs with a
seed-noise tolerance (``tests/nbval_tolerance.py``), never bit for bit.

Opt out with ``AVVP_NUMERICS=native`` (torch's own choices: fastest kernels, machine-dependent last
bits; benchmarks may use it). ``pin`` runs when ``avvp_lib`` is imported, so import ``avvp_lib``
before torch runs its first kernel; :func:`check` warns when the pin came too late.
"""
from __future__ import annotations

import os
import platform
import subprocess
import warnings

OPT_OUT_VARIABLE = "AVVP_NUMERICS"
THREADS_VARIABLE = "AVVP_NUM_THREADS"
MODES = ("pinned", "native")

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


def pinned_environment(isa: str | None = None, threads: int | None = None) -> dict[str, str]:
    """The variables :func:`pin` sets for an ISA class (see the module table)."""
    isa = isa_class() if isa is None else isa
    if threads is None:
        threads = int(os.environ.get(THREADS_VARIABLE, "1"))
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if isa == "x86_64-avx2":
        env |= {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    elif isa == "x86_64-baseline":
        env |= {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}
    return env


def mode() -> str:
    """``pinned`` unless ``AVVP_NUMERICS=native``; any other value is an error that names the variable."""
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
    env = pinned_environment()
    os.environ.update(env)
    _state.update(mode="pinned", environment=env)
    return env


def check() -> str | None:
    """After torch has loaded: warn (and return the message) when torch runs another ATen kernel path
    than the pinned one - torch ran kernels before ``avvp_lib`` was imported."""
    import torch

    wanted = _state.get("environment", {}).get("ATEN_CPU_CAPABILITY")
    actual = torch.backends.cpu.get_cpu_capability()
    if _state.get("mode") != "pinned" or wanted is None or actual.lower() == wanted.lower():
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
            (pinned_environment() if mode() == "pinned" else {})}
    try:
        import torch

        info |= {"torch": torch.__version__, "aten_capability": torch.backends.cpu.get_cpu_capability(),
                 "mkl": bool(torch.backends.mkl.is_available()), "threads": torch.get_num_threads(),
                 "cuda": torch.cuda.is_available()}
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def weights_fingerprint(epochs: int = 2, seed: int = 0) -> str:
    """SHA-256 (16 hex digits) of HAN's weights after a tiny fixed training on CPU.

    The data are drawn from torch's own CPU generator (no files, no NumPy), 64 train and 32 val videos;
    HAN at width 32 with the quick recipe for ``epochs`` epochs, one thread. Same kernels -> same hash.
    """
    import hashlib

    import torch

    from avvp_lib.data.dataset import AVVPData
    from avvp_lib.methods.mmil import HANMethod, train_config
    from avvp_lib.train import fit

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(1234)

    def split(name: str, n: int) -> AVVPData:
        labels = (torch.rand(n, 25, generator=gen) < 0.12).float()
        gt = (torch.rand(n, 10, 25, generator=gen) < 0.3).float() * labels[:, None]
        tensors = {"audio": torch.randn(n, 10, 128, generator=gen) + 2 * gt @ torch.randn(25, 128, generator=gen),
                   "visual_2d": torch.randn(n, 10, 2048, generator=gen), "visual_3d": torch.randn(n, 10, 512, generator=gen),
                   "labels": labels, "index": torch.arange(n)}
        return AVVPData(name, [f"v{i}" for i in range(n)], [f"v{i}" for i in range(n)], tensors, gt, gt.clone(),
                        "synthetic")

    train, val = split("train", 64), split("val", 32)
    config = train_config("quick", seed=seed, device="cpu").replace(epochs=epochs, step_size=1)
    torch.manual_seed(seed)
    method = HANMethod(d_model=32, ffn_dim=32)
    fit(method, train, val, config, progress=False)
    digest = hashlib.sha256()
    for name, tensor in method.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]

"""avvp_lib: the course's library. Importing it pins the CPU numerics first (``avvp_lib.numerics``).

Importing it changes the process environment. It sets ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 in
``os.environ``, overriding values you set yourself. On x86-64 it also sets ``ATEN_CPU_CAPABILITY``,
``MKL_CBWR``, ``MKL_ENABLE_INSTRUCTIONS`` and ``ONEDNN_MAX_CPU_ISA``. Child processes inherit all of them, so
the same CPU kernels give the same numbers on every machine. To keep your own settings, set
``AVVP_NUMERICS=native`` before the first import; to keep the pin with N threads, set ``AVVP_NUM_THREADS=N``.

Everything the library writes goes under one home folder (``avvp_lib.paths.home``): ``AVVP_HOME``, else the
checkout it is imported from, else the working directory. An installed package never writes inside itself.
"""
from avvp_lib import numerics as _numerics

_numerics.pin()

from avvp_lib.version import __version__  # noqa: E402

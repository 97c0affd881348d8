"""avvp_lib: the course's library. Importing it pins the CPU numerics first (``avvp_lib.numerics``)."""
from avvp_lib import numerics as _numerics

_numerics.pin()

from avvp_lib.version import __version__  # noqa: E402

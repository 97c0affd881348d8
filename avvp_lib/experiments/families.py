"""The course's method families: the source files only each uses, the results-row labels each carries, and the
tables ``sweeps --ablations`` adds for each. Declared on import (the code version of a row reads them).

A module listed under no family counts for every family's code version (data, metrics, the trainer, HAN).
"""
from __future__ import annotations

from avvp_lib.experiments.registry import Family, families, family_modules, method_code_families, register_family

__all__ = ["COURSE_FAMILIES", "family_modules", "method_code_families"]

#: paths relative to the ``avvp_lib`` folder
COURSE_FAMILIES = (
    Family("han", methods=("HAN",), code_family="coleaf"),
    Family("coleaf", modules=("models/coleaf.py", "losses/coleaf.py", "methods/coleaf.py"), methods=("CoLeaF", "HAN"),
           ablation_tables=("04_coleaf_ablations",)),
    Family("uwav", modules=("models/uwav.py", "losses/uwav.py", "methods/uwav.py", "pseudo_labels.py", "data/unav.py"),
           methods=("UWAV",), ablation_tables=("05_uwav_pseudolabels", "06_uwav_ablations"),
           runs_with=("pseudo-labels",)),
    Family("pseudo-labels", methods=("pseudo-labels",), code_family="uwav"),
    Family("link", modules=("models/link.py", "losses/link.py", "methods/link.py", "models/valor.py"),
           methods=("LINK",), ablation_tables=("07_link_ablations",), runs_with=("valor+",)),
    Family("valor", methods=("VALOR",), code_family="link", ablation_tables=("09_released",)),
    Family("valor+", methods=("VALOR+",), code_family="link", ablation_tables=("07_link_ablations",),
           runs_with=("link",)),
)

for _family in COURSE_FAMILIES:
    if _family.name not in families():
        register_family(_family)

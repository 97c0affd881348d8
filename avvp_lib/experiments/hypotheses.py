"""Notebook 10's hypotheses: each paper's claim as a knob of the synthetic benchmark, its levels, the configurations
run at every level and the effects measured there (a configuration minus its anchor, with the sign the paper
predicts)."""
from __future__ import annotations

from dataclasses import dataclass, field

@dataclass(frozen=True)
class Effect:
    """``experiment - anchor`` on ``metrics``; ``expected``: the sign the paper's claim predicts per metric."""

    label: str
    experiment: str
    anchor: str
    expected: dict


@dataclass(frozen=True)
class Hypothesis:
    """``knob``: one knob of :class:`avvp_lib.data.synth.SynthKnobs`, or several joined by ``+`` set to the same value
    (``noise.clip+noise.clap``). ``unchanged``: experiments whose inputs the knob does not touch, with the feature
    folders they read: at every level their runs are the frozen level's, re-used once those folders are checked
    byte-identical (:func:`reuse_unchanged`)."""

    key: str
    claim: str
    source: str
    knob: str
    levels: tuple[float, ...]
    experiments: tuple[str, ...]
    effects: tuple[Effect, ...]
    x: str  # the measured property of a level that is the x-axis
    x_label: str
    unchanged: dict = field(default_factory=dict)


#: the feature folders a standard-feature HAN reads (VGGish, ResNet-152, R(2+1)D)
STANDARD_FOLDERS = ("vggish", "res152", "r2plus1d_18")


HYPOTHESES = (
    Hypothesis(
        "H1", "cross-modal attention hurts unaligned (audible-only / visible-only) events, the more so the more of "
              "them there are; CoLeaF's losses recover them", "CoLeaF Sec. 3, Table 1",
        "unaligned_weight", (0.1, 1.0, 4.0, 16.0), ("coleaf/han", "coleaf/han_unimodal", "coleaf/full"),
        (Effect("U+C - U", "coleaf/han", "coleaf/han_unimodal",
                {"segment/Ao": -1, "segment/Vo": -1, "segment/AV": +1, "segment/Type@AVo": -1}),
         Effect("CoLeaF - HAN", "coleaf/full", "coleaf/han", {k: +1 for k in ("segment/Ao", "segment/Vo",
                                                                             "segment/AV", "segment/Type@AVo")})),
        "train_unaligned_share", "unaligned share of the train events (measured)"),
    Hypothesis(
        "H2", "uncertainty-weighted soft pseudo-labels beat hard ones, the more so the less reliable the "
              "pseudo-labels are; the full UWAV beats VALOR", "UWAV Sec. 4",
        "noise.clip+noise.clap", (1.0, 2.0, 3.5, 6.0),
        ("pseudo-labels/uwav", "pseudo-labels/valor-style", "uwav/binary", "uwav/soft", "uwav/uwav", "valor/main"),
        (Effect("soft - hard", "uwav/soft", "uwav/binary", {"segment/Type@AV": +1, "segment/Type@AVo": +1}),
         Effect("UWAV - VALOR", "uwav/uwav", "valor/main", {"segment/Type@AV": +1, "segment/Type@AVo": +1})),
        "pseudo_label_type_av", "UWAV pseudo-labels' segment Type@AV F1 on test, as a fraction (measured)"),
    Hypothesis(
        "H3", "segment pseudo-labels help in proportion to the zero-shot quality of CLIP / CLAP, and LINK's modules "
              "add to them", "VALOR; LINK Sec. II",
        "alignment", (0.1, 0.2, 0.3, 0.45),
        ("han/main", "valor/main", "link/baseline", "link/T+S+P", "pseudo-labels/valor-style", "pseudo-labels/uwav"),
        (Effect("VALOR - HAN", "valor/main", "han/main", {"segment/Type@AV": +1, "segment/Type@AVo": +1}),
         Effect("LINK - VALOR++", "link/T+S+P", "link/baseline", {"segment/Type@AV": +1, "segment/Type@AVo": +1})),
        "zero_shot_auc", "zero-shot segment AUC of CLIP / CLAP on test (measured)",
        unchanged={"han/main": STANDARD_FOLDERS}),
)


def hypothesis(key: str) -> Hypothesis:
    for h in HYPOTHESES:
        if h.key == key:
            return h
    raise KeyError(f"unknown hypothesis {key!r}; expected one of {[h.key for h in HYPOTHESES]}")


def knob_overrides(knob: str, value: float) -> dict:
    """``{name: value}`` for each knob of ``knob`` (``a+b`` sets both)."""
    return {name: value for name in knob.split("+")}


def frozen_value(knob: str) -> float:
    """The frozen benchmark's value of ``knob`` (every knob of an ``a+b`` must share it)."""
    from dataclasses import asdict

    from avvp_lib.data.synth import SynthKnobs

    frozen = asdict(SynthKnobs())
    values = set()
    for name in knob.split("+"):
        base, _, stream = name.partition(".")
        value = frozen[base][stream] if stream else frozen[base]
        if isinstance(value, dict):
            raise ValueError(f"knob {name!r} is per stream: name one stream ({base}.<stream>)")
        values.add(float(value))
    if len(values) != 1:
        raise ValueError(f"knobs {knob!r} have different frozen values {sorted(values)}: one level cannot set them all")
    return values.pop()

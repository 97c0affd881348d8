"""The four architecture drawings of :func:`avvp_lib.plots.architecture`: what they say, and that no two of
their texts overlap once rendered."""
from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from avvp_lib import plots  # noqa: E402

METHODS = ("han", "coleaf", "uwav", "link")
TITLES = {"han": "HAN", "coleaf": "CoLeaF", "uwav": "UWAV", "link": "LINK"}

#: for each method, groups of alternatives: every group must have at least one member in the figure's text
KEY_NAMES = {
    "han": [("cross-modal",), ("MMIL",), ("self-attn",), ("VGGish",), ("ResNet-152",), ("R(2+1)D",),
            ("fc_fusion",), ("0.9 y + 0.05",), ("Eq. 1-2",), ("Eq. 3-4",)],
    "coleaf": [("Reference",), ("Anchor",), ("L_Evt", r"\mathcal{L}_{Evt}"), ("L_SelfMo", r"\mathcal{L}_{SelfMo}"),
               ("L_CoCls", r"\mathcal{L}_{CoCls}"), ("class tokens",), ("stop-gradient",), ("Anchor only",)],
    "uwav": [("stage 1",), ("stage 2",), ("Eq. 8",), ("Eq. 12",), ("Eq. 17-19",), ("Eq. 14-16",), ("Eq. 20",),
             ("UnAV-100",), ("CLIP",), ("CLAP",), ("mixup",)],
    "link": [("TSAM",), ("CMIM",), ("PLSIM",), ("S-LOSS",), ("VALOR",), ("Eq. 1-3",), ("Eq. 4-6",),
             ("Eq. 13-17",), ("Eq. 9-12",)],
}


def drawn_texts(fig) -> list[Text]:
    """Every visible, non-empty text of the figure (box labels, module names, arrow labels, titles, legend)."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.fixture(params=METHODS)
def drawing(request):
    fig = plots.architecture(request.param)
    yield request.param, fig
    plt.close(fig)


def test_returns_a_figure_of_the_agreed_size_and_title(drawing):
    method, fig = drawing
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == pytest.approx((10, 4.5))
    title = f"{TITLES[method]}: architecture (as implemented in avvp_lib)"
    assert title in [t.get_text() for t in drawn_texts(fig)]


def test_names_the_key_components(drawing):
    method, fig = drawing
    everything = "\n".join(t.get_text() for t in drawn_texts(fig))
    missing = [group for group in KEY_NAMES[method] if not any(name in everything for name in group)]
    assert not missing, f"{method}: the figure never mentions {missing}"


def test_names_the_implementing_modules(drawing):
    method, fig = drawing
    grey = [t.get_text() for t in drawn_texts(fig) if t.get_color() == plots._ARCH_GREY]
    expected = {"han": "models/han.py", "coleaf": "models/coleaf.py", "uwav": "models/uwav.py",
                "link": "models/link.py"}[method]
    assert any(expected in text for text in grey), f"{method}: no grey module name mentions {expected}"


def test_legend_shows_the_colour_code(drawing):
    method, fig = drawing
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    for kind in ("audio", "visual", "loss"):
        assert plots.ARCH_COLORS[kind][2] in labels
    assert ("stop-gradient (teacher)" in labels) == (method == "coleaf")


def test_no_two_texts_overlap(drawing):
    method, fig = drawing
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    extents = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(fig)]
    assert len(extents) > 20
    clashes = []
    for (text_a, a), (text_b, b) in itertools.combinations(extents, 2):
        width = min(a.x1, b.x1) - max(a.x0, b.x0)
        height = min(a.y1, b.y1) - max(a.y0, b.y0)
        if width > 0 and height > 0:
            clashes.append((text_a, text_b))
    assert not clashes, f"{method}: overlapping texts {clashes}"


def test_texts_stay_inside_the_figure(drawing):
    method, fig = drawing
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.canvas.get_width_height()
    for t in drawn_texts(fig):
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, (method, t.get_text())


def test_every_method_has_a_figure_file_name():
    assert set(plots.ARCHITECTURE_FIGURES) == set(METHODS)
    assert plots.ARCHITECTURE_FIGURES["han"].startswith("02_")
    assert plots.ARCHITECTURE_FIGURES["coleaf"].startswith("03_")
    assert plots.ARCHITECTURE_FIGURES["uwav"].startswith("05_")
    assert plots.ARCHITECTURE_FIGURES["link"].startswith("07_")
    assert all(name.endswith("_architecture.png") for name in plots.ARCHITECTURE_FIGURES.values())


def test_unknown_method_is_refused_with_the_choices():
    before = plt.get_fignums()
    with pytest.raises(ValueError) as info:
        plots.architecture("valor")
    for name in METHODS:
        assert repr(name) in str(info.value)
    assert plt.get_fignums() == before  # nothing half-drawn is left open

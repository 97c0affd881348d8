"""avvp_lib.exercises (right / not yet / not answered, without revealing the answer) and the committed exercise and
solution notebooks (notebooks/exercises, notebooks/solutions), read as JSON: nothing is executed here."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from avvp_lib.exercises import Mismatch, check, compare, is_unanswered

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "notebooks" / "exercises"
SOLUTIONS = REPO / "notebooks" / "solutions"
CHECK_ID = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")


# ------------------------------------------------------------------------------------------------ the helper
def test_a_right_value_passes_and_says_correct(capsys):
    assert check("t.1", 0.5, lambda: 0.5) is True
    assert capsys.readouterr().out == "✓ t.1: correct\n"


def test_a_right_function_passes_on_every_case(capsys):
    cases = [(torch.ones(3),), (torch.arange(4.0),), {"x": torch.zeros(2, 2)}]
    assert check("t.2", lambda x: 2 * x, lambda x: x + x, cases) is True
    assert capsys.readouterr().out == "✓ t.2: correct\n"


def test_a_wrong_value_fails_with_a_hint_that_holds_no_expected_number(capsys):
    assert check("t.3", 0.5, lambda: 0.123456, hint="think about the softmax axis") is False
    out = capsys.readouterr().out
    assert out.startswith("✗ t.3: not yet - ") and out.count("\n") == 1
    assert "think about the softmax axis" in out
    assert "0.123" not in out and "123456" not in out


def test_a_wrong_function_names_the_failing_case_and_count_but_no_expected_entry(capsys):
    expected = lambda x: x * 7.25  # noqa: E731
    ok = check("t.4", lambda x: x * 7.0, expected, [(torch.tensor([1.0, 0.0]),), (torch.tensor([3.0, 2.0]),)])
    out = capsys.readouterr().out
    assert ok is False
    assert "case 1 of 2" in out and "1 of 2 entries differ" in out
    assert "7.25" not in out and "21.75" not in out and "14.5" not in out


def test_a_shape_mismatch_names_both_shapes(capsys):
    assert check("t.5", lambda x: x[:1], lambda x: x, [(torch.ones(3),)]) is False
    assert "shape is (1,), expected (3,)" in capsys.readouterr().out


def test_a_wrong_text_is_not_shown(capsys):
    assert check("t.6", ("inconclusive", 0.0), lambda: ("Agrees", 0.0)) is False
    out = capsys.readouterr().out
    assert "not yet" in out and "agrees" not in out.lower()
    assert check("t.6b", " AGREES ", lambda: "agrees") is True  # case and spaces do not matter


@pytest.mark.parametrize("answer", [None, ..., NotImplemented, (None, None), {"a": None}])
def test_an_unanswered_value_is_reported_and_never_raises(capsys, answer):
    assert check("t.7", answer, lambda: 1.0) is False
    assert capsys.readouterr().out == "… t.7: not answered yet\n"


def test_a_stub_function_is_not_answered(capsys):
    def stub(x):
        raise NotImplementedError

    def empty(x):
        pass

    assert check("t.8", stub, lambda x: x, [(1.0,)]) is False
    assert check("t.8b", empty, lambda x: x, [(1.0,)]) is False
    assert capsys.readouterr().out == "… t.8: not answered yet\n… t.8b: not answered yet\n"


def test_a_failing_student_function_is_a_not_yet_not_an_exception(capsys):
    assert check("t.9", lambda x: x @ torch.ones(5), lambda x: x, [(torch.ones(3),)]) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ t.9: not yet - your function raised RuntimeError")


def test_the_expectation_is_computed_on_untouched_inputs():
    def in_place(x):
        x.mul_(0)
        return x

    assert check("t.10", in_place, lambda x: x * 0, [(torch.ones(3),)]) is True
    seen = []
    check("t.10b", lambda x: x, lambda x: seen.append(x.clone()) or x, [(torch.ones(2),)])
    assert torch.equal(seen[0], torch.ones(2))


def test_the_tolerance_is_the_stated_one():
    assert check("t.11", 1.009, lambda: 1.0, atol=0.01, rtol=0) is True
    assert check("t.11b", 1.011, lambda: 1.0, atol=0.01, rtol=0) is False
    assert check("t.11c", [1.0, 2.0], lambda: np.array([1.0, 2.0 + 1e-9])) is True  # lists compare as arrays


def test_nan_in_the_answer_is_named_and_matching_nan_is_fine(capsys):
    assert check("t.12", torch.tensor([np.nan, 1.0]), lambda: torch.tensor([0.0, 1.0])) is False
    assert "NaN or infinite" in capsys.readouterr().out
    assert check("t.12b", np.array([np.nan, np.inf]), lambda: np.array([np.nan, np.inf])) is True


def test_an_error_in_the_expectation_is_the_exercise_bug_and_propagates():
    with pytest.raises(ZeroDivisionError):
        check("t.13", 1.0, lambda: 1 / 0)


def test_compare_and_is_unanswered_directly():
    compare({"a": (1, torch.tensor([2.0]))}, {"a": (1.0, np.array([2.0]))})
    with pytest.raises(Mismatch, match="expected 2 items"):
        compare((1.0,), (1.0, 2.0))
    assert is_unanswered([None, ...]) and not is_unanswered([None, 0.0]) and not is_unanswered(0.0)


# ----------------------------------------------------------------------------------- the committed notebooks
def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def _check_ids(cells: list[dict]) -> list[str]:
    return [i for c in cells if c["cell_type"] == "code" for i in CHECK_ID.findall(_source(c))]


PAIRS = [(p, SOLUTIONS / p.name.replace("_exercises.ipynb", "_solutions.ipynb"))
         for p in sorted(EXERCISES.glob("[0-9][0-9]_*_exercises.ipynb"))]


def test_every_chapter_has_an_exercise_notebook_and_its_solutions():
    chapters = sorted(p.name.split("_")[0] for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name.split("_")[0] for p, _ in PAIRS] == chapters == [f"{n:02d}" for n in range(1, 11)]
    for exercises, solutions in PAIRS:
        assert (REPO / "notebooks" / exercises.name.replace("_exercises", "")).is_file(), exercises.name
        assert solutions.is_file(), f"{solutions}: missing (the solutions of {exercises.name})"
    assert len(list(SOLUTIONS.glob("*.ipynb"))) == len(PAIRS), "a solutions notebook without its exercises"


@pytest.mark.parametrize("exercises, solutions", PAIRS, ids=[p.name[:2] for p, _ in PAIRS])
def test_exercise_and_solution_notebooks_match_and_show_their_state(exercises, solutions):
    ex, so = _cells(exercises), _cells(solutions)
    ids = _check_ids(ex)
    assert ids == _check_ids(so), f"{exercises.name}: check ids differ from {solutions.name}"
    exercises_checked = {re.match(r"\d\d\.\d+", i).group() for i in ids}  # "09.2" and "09.2b" are one exercise
    assert len(ids) == len(set(ids)) and 2 <= len(exercises_checked) <= 4, f"{exercises.name}: ids {ids}"
    assert all(i.startswith(exercises.name[:2] + ".") for i in ids), f"{exercises.name}: ids {ids}"
    # the two notebooks differ only in their answer cells and their first and last (markdown) cells
    assert len(ex) == len(so)
    for k, (a, b) in enumerate(zip(ex, so)):
        if 0 < k < len(ex) - 1 and "answer" not in a["metadata"].get("tags", []):
            assert _source(a) == _source(b), f"{exercises.name} cell {k} differs from {solutions.name}"
    for path, cells in ((exercises, ex), (solutions, so)):
        code = [c for c in cells if c["cell_type"] == "code"]
        assert _source(code[0]).startswith("import avvp_lib"), f"{path.name}: the first code cell must import avvp_lib"
        assert all(c["execution_count"] is not None for c in code), f"{path.name}: not executed to the end"
        assert not any(o["output_type"] == "error" for c in code for o in c["outputs"]), f"{path.name}: an error output"
        assert not any("execution" in c["metadata"] for c in cells), f"{path.name}: volatile cell metadata left in"
    ex_out = "".join(_text(c) for c in ex)
    so_out = "".join(_text(c) for c in so)
    for i in ids:
        assert f"… {i}: not answered yet" in ex_out, f"{exercises.name}: {i} does not say 'not answered yet'"
        assert f"✓ {i}: correct" in so_out, f"{solutions.name}: {i} does not say 'correct'"
    assert "✓" not in ex_out and "✗" not in ex_out, f"{exercises.name}: an unsolved notebook must answer nothing"
    assert "✗" not in so_out and "…" not in so_out, f"{solutions.name}: every check must be correct"
    stubs = [_source(c) for c in ex if "answer" in c["metadata"].get("tags", [])]
    assert stubs and all("raise NotImplementedError" in s or "= None" in s for s in stubs), exercises.name

"""Checks for the exercise notebooks (``notebooks/exercises/``): right or not yet, without giving the answer away.

:func:`check` compares a student's answer with an expectation computed *at check time* by the library's own
implementation (``expected_fn``) on the exercise's inputs, within a stated tolerance, and prints one line:

* ``✓ <id>: correct``
* ``✗ <id>: not yet - <what differs, never the expected values>; hint: <the exercise's hint>``
* ``… <id>: not answered yet`` (the answer is ``None``, ``...`` or ``NotImplemented``, or a student function that
  raises ``NotImplementedError`` or returns ``None``)

It returns ``True`` only for a correct answer and never raises on the student's side (an unsolved notebook runs to
the end); an error in ``expected_fn`` is the exercise's own bug and propagates. The diagnostics name shapes, types,
how many entries differ and which entries are not finite, but never an expected number.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["check", "is_unanswered", "compare", "Mismatch", "UNANSWERED", "CORRECT", "NOT_YET"]

UNANSWERED = "…"  # the mark of an exercise not answered yet
CORRECT = "✓"
NOT_YET = "✗"


class Mismatch(ValueError):
    """What differs between an answer and the expectation, in words that hold no expected value."""


def is_unanswered(answer: Any) -> bool:
    """True for ``None``, ``...``, ``NotImplemented``, and a non-empty tuple / list / dict holding only those."""
    if answer is None or answer is Ellipsis or answer is NotImplemented:
        return True
    if isinstance(answer, (tuple, list)) and answer:
        return all(is_unanswered(a) for a in answer)
    if isinstance(answer, Mapping) and answer:
        return all(is_unanswered(a) for a in answer.values())
    return False


def _to_array(x: Any) -> np.ndarray | None:
    """A float64 NumPy array for numbers, bools, NumPy arrays and torch tensors; None for anything else."""
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return np.asarray(x, dtype=np.float64)
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype != object else None
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        return x.detach().cpu().double().numpy()
    return None


def _where(path: str) -> str:
    return f" in {path}" if path else ""


def compare(answer: Any, expected: Any, atol: float = 1e-6, rtol: float = 1e-5, path: str = "") -> None:
    """Raise :class:`Mismatch` when ``answer`` differs from ``expected``: numbers and arrays (NumPy, torch, nested
    lists) within ``|a - e| <= atol + rtol * |e|``, strings case- and space-insensitively, tuples / lists / dicts
    element by element. The message never holds an expected value."""
    if isinstance(expected, str):
        if not isinstance(answer, str):
            raise Mismatch(f"expected a string{_where(path)}, got {type(answer).__name__}")
        if answer.strip().lower() != expected.strip().lower():
            raise Mismatch(f"the text{_where(path)} is not the expected one")
        return
    if isinstance(expected, Mapping):
        if not isinstance(answer, Mapping):
            raise Mismatch(f"expected a dict{_where(path)}, got {type(answer).__name__}")
        missing, extra = set(expected) - set(answer), set(answer) - set(expected)
        if missing or extra:
            raise Mismatch(f"keys{_where(path)} differ: missing {sorted(map(str, missing))}, "
                            f"unexpected {sorted(map(str, extra))}")
        for key in expected:
            compare(answer[key], expected[key], atol, rtol, f"{path} {key!r}".strip())
        return
    e = _to_array(expected)
    if e is None and isinstance(expected, Sequence):  # a tuple of results, e.g. (video, audio, visual)
        if not isinstance(answer, Sequence) or isinstance(answer, str):
            raise Mismatch(f"expected a tuple of {len(expected)}{_where(path)}, got {type(answer).__name__}")
        if len(answer) != len(expected):
            raise Mismatch(f"expected {len(expected)} items{_where(path)}, got {len(answer)}")
        for i, (a_i, e_i) in enumerate(zip(answer, expected)):
            compare(a_i, e_i, atol, rtol, f"{path} item {i}".strip())
        return
    if e is None:
        if answer != expected:
            raise Mismatch(f"the value{_where(path)} is not the expected one")
        return
    a = _to_array(answer)
    if a is None and isinstance(answer, (list, tuple)):
        try:
            a = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            a = None
    if a is None:
        raise Mismatch(f"expected a number or an array{_where(path)}, got {type(answer).__name__}")
    if a.shape != e.shape:
        raise Mismatch(f"shape{_where(path)} is {a.shape}, expected {e.shape}")
    bad_a, bad_e = ~np.isfinite(a), ~np.isfinite(e)
    if (bad_a & ~bad_e).any():
        raise Mismatch(f"{int((bad_a & ~bad_e).sum())} entr{'y is' if (bad_a & ~bad_e).sum() == 1 else 'ies are'} "
                        f"NaN or infinite{_where(path)}")
    with np.errstate(invalid="ignore"):  # inf - inf where both are infinite: decided by the first branch
        ok = np.where(bad_e, (a == e) | (np.isnan(a) & np.isnan(e)), np.abs(a - e) <= atol + rtol * np.abs(e))
    if not ok.all():
        if a.ndim == 0:
            raise Mismatch(f"the value{_where(path)} is off by more than the {_tolerance(atol, rtol)}")
        raise Mismatch(f"{int((~ok).sum())} of {ok.size} entries{_where(path)} differ by more than the "
                        f"{_tolerance(atol, rtol)}")


def _cases(inputs: Any) -> list[tuple[tuple, dict]]:
    """``None`` -> one call without arguments; a tuple -> one call with those positional arguments; a dict -> one
    call with those keyword arguments; a list -> one call per item (each a tuple or a dict)."""
    if inputs is None:
        return [((), {})]
    items = inputs if isinstance(inputs, list) else [inputs]
    out = []
    for item in items:
        if isinstance(item, Mapping):
            out.append(((), dict(item)))
        elif isinstance(item, tuple):
            out.append((item, {}))
        else:
            out.append(((item,), {}))
    return out


def _tolerance(atol: float, rtol: float) -> str:
    return f"tolerance (|yours - expected| <= {atol:g} + {rtol:g} * |expected|)"


def check(exercise_id: str, answer: Any, expected_fn: Callable, inputs: Any = None, *, atol: float = 1e-6,
          rtol: float = 1e-5, hint: str = "") -> bool:
    """Check one exercise; print one line and return True when the answer is correct.

    Args:
        exercise_id: the exercise's name as the notebook states it, e.g. ``"02.1"``.
        answer: a value (number, array, tensor, string, tuple or dict of them) or a function. A function is called
            on every case of ``inputs`` and each result compared with ``expected_fn`` on the same case (each call
            gets its own deep copy of the inputs, so an in-place edit cannot change the expectation).
        expected_fn: computes the expectation with the library, called with the case's arguments.
        inputs: ``None`` (call ``expected_fn()`` and the function without arguments), a tuple of positional
            arguments, a dict of keyword arguments, or a list of such cases.
        atol, rtol: the tolerance for numbers, ``|answer - expected| <= atol + rtol * |expected|``.
        hint: one sentence that points at the idea, printed with a wrong answer; it must not hold the answer.
    """
    if is_unanswered(answer):
        print(f"{UNANSWERED} {exercise_id}: not answered yet")
        return False
    cases = _cases(inputs)
    try:
        for number, (args, kwargs) in enumerate(cases, 1):
            if callable(answer):
                try:
                    got = answer(*copy.deepcopy(args), **copy.deepcopy(kwargs))
                except NotImplementedError:
                    print(f"{UNANSWERED} {exercise_id}: not answered yet")
                    return False
                except Exception as error:  # the student's code failed: say how, never raise
                    message = str(error).splitlines()[0][:160] if str(error) else ""
                    raise Mismatch(f"your function raised {type(error).__name__}"
                                    + (f": {message}" if message else "")) from None
                if got is None or got is Ellipsis:
                    print(f"{UNANSWERED} {exercise_id}: not answered yet")
                    return False
            else:
                got = answer
            expected = expected_fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            try:
                compare(got, expected, atol, rtol)
            except Mismatch as error:
                where = f"case {number} of {len(cases)}: " if callable(answer) and len(cases) > 1 else ""
                raise Mismatch(f"{where}{error}") from None
    except Mismatch as error:
        tail = f"; hint: {hint}" if hint else ""
        print(f"{NOT_YET} {exercise_id}: not yet - {error}{tail}")
        return False
    print(f"{CORRECT} {exercise_id}: correct")
    return True

"""What a notebook shows of the library's code: the source of a function without its input checks.

:func:`show_source` drops every ``if`` statement whose branches only ``raise`` (argument and shape validation) and
puts one comment in its place, so a printed function reads as the equation it implements; ``inspect.getsource``
gives the whole text.
"""
from __future__ import annotations

import ast
import inspect
import textwrap


def _only_raises(node: ast.If) -> bool:
    """An ``if`` (with its ``elif``/``else`` chain) whose every branch is nothing but ``raise`` statements."""
    if not node.body or not all(isinstance(s, ast.Raise) for s in node.body):
        return False
    if not node.orelse:
        return True
    if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        return _only_raises(node.orelse[0])
    return all(isinstance(s, ast.Raise) for s in node.orelse)


def show_source(obj) -> str:
    """``obj``'s source with its validation-only ``if ...: raise`` blocks replaced by one comment each (a run of
    consecutive blocks becomes one comment)."""
    source = textwrap.dedent(inspect.getsource(obj))
    lines = source.splitlines()
    blocks = sorted((n.lineno, n.end_lineno, n.col_offset) for n in ast.walk(ast.parse(source))
                    if isinstance(n, ast.If) and _only_raises(n))
    outer = [b for b in blocks if not any(o[0] < b[0] <= o[1] for o in blocks if o != b)]  # not an elif inside one
    drop, notes, previous_end = set(), {}, None
    for start, end, col in outer:
        drop.update(range(start, end + 1))
        if previous_end != start - 1:  # a run of consecutive checks gets one comment
            notes[start] = " " * col + "# (input checks: a bad argument raises an error naming it; see the source)"
        previous_end = end
    out = []
    for number, line in enumerate(lines, start=1):
        if number in notes:
            out.append(notes[number])
        if number not in drop:
            out.append(line)
    return "\n".join(out) + "\n"

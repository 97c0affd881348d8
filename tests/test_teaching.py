"""show_source: the function as the notebook shows it, without its validation-only branches."""
from avvp_lib.teaching import show_source


def sample(x, y):
    """Doc."""
    if x < 0:
        raise ValueError("x")
    elif y < 0:
        raise ValueError("y")
    if x > 100:
        raise ValueError("big")
    total = x + y
    if total > 10:
        total = 10
    return total


def test_validation_only_branches_become_one_comment_and_the_rest_stays():
    shown = show_source(sample)
    assert "raise ValueError" not in shown and shown.count("# (input checks") == 1
    assert "total = x + y" in shown and "if total > 10:" in shown and "total = 10" in shown  # not validation: kept
    assert shown.splitlines()[0] == "def sample(x, y):"
    compile(shown, "<shown>", "exec")  # still valid Python

"""environment.yml agrees with pyproject.toml: conda gives python + pip, pip installs the package with [dev]."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def conda_dependencies(text: str) -> tuple[list[str], list[str]]:
    """(conda packages, pip lines) of a simple environment.yml (no YAML library needed)."""
    conda, pip, section = [], [], None
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.strip():
            continue
        if re.match(r"^\S", stripped):
            section = stripped.rstrip(":").strip()
            continue
        item = stripped.strip()
        if section != "dependencies" or not item.startswith("- "):
            continue
        value = item[2:].strip()
        indent = len(stripped) - len(stripped.lstrip())
        if value == "pip:":
            continue
        (pip if indent > 2 else conda).append(value)
    return conda, pip


def package_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_installs_the_package_and_matches_pyproject():
    conda, pip = conda_dependencies((REPO_ROOT / "environment.yml").read_text())
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert any(package_name(c) == "python" for c in conda) and "pip" in conda
    python = next(c for c in conda if package_name(c) == "python")
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[-1].split("."))) >= tuple(map(int, minimum.split(".")))
    assert "-e .[dev]" in pip, "the pip section must install the package with its [dev] extra"
    # every other package named in the yml must be one pyproject asks for (no second, diverging list)
    wanted = {package_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    extra = {package_name(c) for c in conda + pip if not c.startswith("-")} - {"python", "pip"} - wanted
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"


def test_parser_sees_a_missing_dev_extra():
    conda, pip = conda_dependencies("name: x\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - -e .\n")
    assert conda == ["python=3.11", "pip"] and pip == ["-e ."]

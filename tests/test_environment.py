"""environment.yml and constraints.txt agree with pyproject.toml: conda gives python + pip, pip installs the
package with [dev,cluster] at the locked versions, and the lock pins every dependency inside its range."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

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
    assert "-e .[dev,cluster]" in pip, "the pip section must install the package with its [dev,cluster] extras"
    assert "-c constraints.txt" in pip, "the pip section must install at the locked versions"
    # every other package named in the yml must be one pyproject asks for (no second, diverging list)
    wanted = {package_name(r) for r in project_requirements(project)}
    extra = {package_name(c) for c in conda + pip if not c.startswith("-")} - {"python", "pip"} - wanted
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"


def test_parser_sees_a_missing_dev_extra():
    conda, pip = conda_dependencies("name: x\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - -e .\n")
    assert conda == ["python=3.11", "pip"] and pip == ["-e ."]


def project_requirements(project: dict) -> list[str]:
    extras = project["optional-dependencies"]
    return project["dependencies"] + extras["dev"] + extras["cluster"]


def read_lock(text: str, name: str = "constraints.txt") -> dict[str, Version]:
    """{package: pinned version} of a pip constraints file; anything but ``name==version`` is an error."""
    pins = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if not match:
            raise ValueError(f"{name} line {number}: expected 'package==version', got {line!r}")
        pins[match.group(1).lower().replace("_", "-")] = Version(match.group(2))
    return pins


def unlocked_or_out_of_range(requirements: list[str], pins: dict[str, Version]) -> list[str]:
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        if name not in pins:
            problems.append(f"{name}: not pinned")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{name}: pinned {pins[name]} outside {requirement.specifier}")
    return problems


def test_lock_pins_every_dependency_within_its_range():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pins = read_lock((REPO_ROOT / "constraints.txt").read_text())
    assert not unlocked_or_out_of_range(project_requirements(project), pins)
    assert str(pins["torch"]) == "2.13.0", "the committed outputs were made with torch 2.13.0 (no local +cpu tag)"
    assert not [p for p in pins if p.startswith("nvidia-") or p == "triton"], "the lock must not force a CUDA build"


def test_lock_check_sees_missing_and_out_of_range_pins():
    pins = read_lock("numpy==1.20.0\n# comment\npandas==2.1.0\n")
    assert unlocked_or_out_of_range(["numpy>=1.24", "pandas>=2.0", "scipy>=1.10"], pins) == [
        "numpy: pinned 1.20.0 outside >=1.24", "scipy: not pinned"]
    try:
        read_lock("torch>=2.2\n")
    except ValueError as error:
        assert "line 1" in str(error) and "torch>=2.2" in str(error)
    else:
        raise AssertionError("a range in the lock must be an error")


def test_setup_uses_the_lock_and_prefers_the_cpu_index_without_a_gpu():
    script = (REPO_ROOT / "scripts" / "setup_env.sh").read_text()
    assert "-c constraints.txt" in script and "AVVP_UNLOCKED" in script
    assert "download.pytorch.org/whl/cpu" in script and "--index-url" in script

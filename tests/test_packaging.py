"""environment.yml (conda users) lists the same packages as pyproject.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(s) for s in project["dependencies"]}
    wanted |= {_name(s) for s in project["optional-dependencies"]["test"]}
    listed = set()
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.-]+[^#]*)", line)
        if m and not m.group(1).startswith(("-e", ".")) and ":" not in m.group(1):
            listed.add(_name(m.group(1)))
    listed -= {"python", "pip"}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; " \
                             f"only in pyproject.toml: {wanted - listed}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = ROOT / "README.md"
    assert readme.exists() and "make test" in readme.read_text()
    assert "make reproduce" in readme.read_text()


def test_make_test_runs_lint_then_the_type_checker():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^test:(.*)$", makefile, re.M)
    assert target, "Makefile has no test target"
    prereqs = target.group(1).split()
    assert prereqs.index("lint") < prereqs.index("typecheck")
    assert re.search(r"^typecheck:.*\n\t\$\(BIN\)/mypy wslab$", makefile, re.M)
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["check_untyped_defs"] and mypy["warn_unused_ignores"]


def test_license_is_an_spdx_expression():
    # a TOML table ({text = ...}) is deprecated by setuptools (PEP 639)
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"

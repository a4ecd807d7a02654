"""The package's layers: every import inside wslab points down, never up or sideways.

Layers, bottom to top (a module may import its own layer and the ones below):

    core                    events, hub, meter, process protocol, paths, errors, ...
    transports, net         one module per transport; impairment proxy and capture
    runner                  server and fleet processes, config, lab, store, summary
    models, stats           analytic predictions; intervals and sample sizes
    experiment, analysis, plots   sweeps, tidy tables, shared figure helpers
    studies                 one module per notebook
    cli, __init__, __main__ the command and the public API

``transports`` and ``net`` share a level but must not import each other, and
one study never imports another (each notebook's analysis stands alone); the
modules of one study's package (``wslab.studies.long_polling.figures``) may
import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "wslab"

LEVEL = {
    "core": 0,
    "transports": 1, "net": 1,
    "runner": 2,
    "models": 3, "stats": 3,
    "experiment": 4, "analysis": 4, "plots": 4,
    "studies": 5,
    "cli": 6, "__init__": 6, "__main__": 6,
}
#: same level, still forbidden: (importer, imported)
APART = {("transports", "net"), ("net", "transports")}


def _unit(module: str) -> str:
    """``wslab.core.hub`` -> ``core``; ``wslab`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("wslab"):
                if target == "wslab" or (node.level and not node.module):
                    # "from . import x" / "from wslab import x": x may be a module
                    found += [f"{target}.{a.name}" for a in node.names]
                else:
                    found.append(target)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("wslab")]
    return found


def _crosses_studies(module: str, target: str) -> bool:
    """Does study ``module`` import another study? A study is a module or a
    package (``wslab.studies.<study>[.<part>]``): the parts of one study may
    import each other, never another study's."""
    return (target.count(".") >= 2 and module.count(".") >= 2
            and target.split(".")[2] != module.split(".")[2])


MODULES = _modules()


def test_every_unit_has_a_level():
    units = {_unit(m) for m, _ in MODULES}
    assert units <= set(LEVEL), f"give these a layer in tests/test_layers.py: {units - set(LEVEL)}"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_point_down(module, path):
    me = _unit(module)
    bad = []
    for target in _imports(module, path):
        other = _unit(target)
        if other not in LEVEL:  # e.g. "from wslab import transport_names"
            other = "__init__"
        if other == me:
            if me == "studies" and _crosses_studies(module, target):
                bad.append(f"{target} (one study imports another)")
            continue
        top = LEVEL[me] == max(LEVEL.values())  # the public face may use itself
        if LEVEL[other] > LEVEL[me] or (me, other) in APART or (
                LEVEL[other] == LEVEL[me] and not top):
            bad.append(target)
    assert not bad, f"{module} imports upward or sideways: {bad}"


def test_a_study_package_may_import_its_own_parts_but_no_other_study():
    lp = "wslab.studies.long_polling"
    assert not _crosses_studies(f"{lp}.figures", f"{lp}.checks")
    assert not _crosses_studies(f"{lp}.figures", f"{lp}._common")
    assert not _crosses_studies(lp, f"{lp}.figures")  # the package's re-exports
    assert _crosses_studies(f"{lp}.figures", "wslab.studies.short_polling.figures")
    assert _crosses_studies(f"{lp}.figures", "wslab.studies.short_polling")
    assert _crosses_studies("wslab.studies.capacity", "wslab.studies.scalability")
    assert not _crosses_studies(f"{lp}.figures", "wslab.studies")  # the package itself

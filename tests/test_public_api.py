"""The public face of wslab: what `import wslab` offers, and every module's `__all__`."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import wslab
from wslab.core import errors

PKG = Path(wslab.__file__).resolve().parent
#: importing it runs the command, so its __all__ is read from the source
NOT_IMPORTED = {"wslab.__main__"}


def _module_names() -> list[str]:
    names = ["wslab"]
    for info in pkgutil.walk_packages([str(PKG)], prefix="wslab."):
        names.append(info.name)
    return sorted(names)


def test_every_name_in_wslab_all_resolves_and_is_documented():
    assert len(wslab.__all__) == len(set(wslab.__all__))
    for name in wslab.__all__:
        obj = getattr(wslab, name)
        assert inspect.getdoc(obj), f"wslab.{name} has no docstring"
    assert set(wslab.__all__) <= set(dir(wslab))


def test_the_notebook_entry_points_exist():
    assert callable(wslab.run) and callable(wslab.load)
    assert inspect.isclass(wslab.Lab) and inspect.isclass(wslab.Experiment)
    assert isinstance(wslab.models, ModuleType)
    assert wslab.models.short_poll_latency_mean(0.2, transit=0.01) == pytest.approx(0.11)
    for name in ("analysis", "plots", "stats", "studies"):
        assert isinstance(getattr(wslab, name), ModuleType), name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        wslab.nothing  # noqa: B018


def test_errors_form_one_family_that_also_reads_as_builtins():
    assert issubclass(errors.ConfigError, errors.WslabError)
    assert issubclass(errors.ConfigError, ValueError)  # bad input: callers may catch ValueError
    assert issubclass(errors.RunError, errors.WslabError)
    assert issubclass(errors.RunError, RuntimeError)
    assert issubclass(errors.IncompleteRunError, errors.WslabError)
    for name in errors.__all__:
        assert getattr(wslab, name) is getattr(errors, name)


@pytest.mark.parametrize("module", [m for m in _module_names() if m not in NOT_IMPORTED])
def test_every_module_declares_all_and_its_names_exist(module):
    mod = importlib.import_module(module)
    assert isinstance(getattr(mod, "__all__", None), list), f"{module} has no __all__ list"
    assert len(mod.__all__) == len(set(mod.__all__)), f"{module}.__all__ repeats a name"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{module}.__all__ names what it lacks: {missing}"
    assert mod.__doc__, f"{module} has no module docstring"


@pytest.mark.parametrize("module", sorted(NOT_IMPORTED))
def test_modules_that_run_on_import_declare_all_too(module):
    path = PKG.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text())
    assigned = [t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)]
    assert "__all__" in assigned, f"{module} has no __all__"

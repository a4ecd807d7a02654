"""A study that grew into a package keeps one public face: the package itself.

Notebooks use ``from wslab.studies import long_polling; long_polling.X``, so
the package must re-export every public name of its modules, and no module
may share a name with one of them (``short_polling.plan`` is the function,
never the module).
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import wslab.studies

PACKAGES = sorted(m.name for m in pkgutil.iter_modules(wslab.studies.__path__) if m.ispkg)


def test_the_studies_that_grew_are_packages():
    assert {"header_overhead", "long_polling", "scalability", "short_polling"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_a_study_package_re_exports_exactly_its_modules_public_names(name):
    pkg = importlib.import_module(f"wslab.studies.{name}")
    parts = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))
    assert parts, f"{pkg.__name__} has no modules"
    union: set[str] = set()
    for part in parts:
        mod = importlib.import_module(f"{pkg.__name__}.{part}")
        for n in mod.__all__:
            assert getattr(pkg, n) is getattr(mod, n), f"{name}.{n} is not {mod.__name__}.{n}"
        assert not union & set(mod.__all__), f"{mod.__name__} defines a name another part does"
        union |= set(mod.__all__)
    assert set(pkg.__all__) == union
    clash = set(parts) & set(pkg.__all__)
    assert not clash, f"modules named like a public name of {pkg.__name__}: {clash}"

"""The layer contract and the declared dependencies, read from the source with `ast`.

Data flows one way (core → io → views → app): a lower layer that imports a higher one, or a
heavy library (Streamlit, matplotlib, folium, SQLAlchemy) imported outside the one place that
needs it, would make `import geo_app` slow and the core untestable without a UI. Every import
is checked, including relative ones and those inside functions (the lazy imports).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geo_app"

# Which geo_app layers each layer must not import (the cli and the package root sit on top).
FORBIDDEN_LAYERS: dict[str, set[str]] = {
    "core": {"io", "views", "app", "cli"},
    "io": {"views", "app", "cli"},
    "views": {"app", "cli"},
}

# Declared runtime dependencies that no module imports by name, and why they are still needed.
RUNTIME_ONLY: dict[str, str] = {
    "pyarrow": "GeoParquet: gpd.read_parquet for the embedded boundaries (data/boundaries/*.parquet)",
    "pyogrio": "the engine geopandas reads and writes Shapefile, GeoJSON and GeoPackage with (engine='pyogrio')",
}


@dataclass(frozen=True)
class Import:
    """One imported module name, where it was imported, and the line (for the failure message)."""

    importer: str  # dotted module name of the importing file
    path: Path
    line: int
    module: str  # dotted name of what is imported (absolute)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """`from ..x import y` inside `importer` → the absolute base module name."""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 >= len(package):
        raise AssertionError(f"relative import beyond the top package in {importer}")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _imports_of(path: Path) -> list[Import]:
    importer = _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):  # walks function bodies too: lazy imports count
        if isinstance(node, ast.Import):
            found += [Import(importer, path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve_relative(importer, is_package, node.level, node.module)
            found.append(Import(importer, path, node.lineno, base))
            # `from geo_app import views` or `from . import store` imports a submodule by name.
            found += [
                Import(importer, path, node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"
            ]
        elif isinstance(node, ast.Call):
            # importlib.import_module("geo_app.x") / __import__("x") with a literal name count as imports too.
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    found.append(Import(importer, path, node.lineno, node.args[0].value))
    return found


def _all_imports() -> list[Import]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 40, "the package's modules were not found"
    return [imp for path in files for imp in _imports_of(path)]


IMPORTS = _all_imports()


def _layer(module: str) -> str | None:
    """'geo_app.core.plan' → 'core'; 'geo_app.cli' → 'cli'; 'geo_app' → 'root'; other packages → None."""
    parts = module.split(".")
    if parts[0] != "geo_app":
        return None
    return parts[1] if len(parts) > 1 else "root"


def _top(module: str) -> str:
    return module.split(".")[0]


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line} imports {imp.module}"


def _in(imp: Import, *prefixes: str) -> bool:
    """Whether the importing module is one of `prefixes` or inside one of them."""
    return any(imp.importer == p or imp.importer.startswith(p + ".") for p in prefixes)


def test_the_parser_sees_relative_and_lazy_imports() -> None:
    """A self-check on known imports, so the contract tests below cannot pass by seeing nothing."""
    modules = {(imp.importer, imp.module) for imp in IMPORTS}
    assert ("geo_app", "geo_app.io.store") in modules  # inside __getattr__
    assert ("geo_app.io.store", "sqlalchemy") in modules
    assert ("geo_app.io.store", "platformdirs") in modules  # inside a function
    assert _resolve_relative("geo_app.views.build", False, 1, "text") == "geo_app.views.text"
    assert _resolve_relative("geo_app.views.build", False, 2, "core.plan") == "geo_app.core.plan"
    assert _resolve_relative("geo_app.io", True, 1, "store") == "geo_app.io.store"
    assert _resolve_relative("geo_app.io", True, 2, None) == "geo_app"


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_LAYERS))
def test_no_layer_imports_a_layer_above_it(layer: str) -> None:
    bad = [
        _where(imp)
        for imp in IMPORTS
        if _layer(imp.importer) == layer and _layer(imp.module) in FORBIDDEN_LAYERS[layer]
    ]
    assert bad == [], f"{layer} must not import {sorted(FORBIDDEN_LAYERS[layer])}:\n" + "\n".join(bad)


# Third-party packages and the only places allowed to import them.
CONFINED: dict[str, tuple[str, ...]] = {
    "streamlit": ("geo_app.app",),
    "matplotlib": ("geo_app.views.printmap",),
    "matplotlib_fontja": ("geo_app.views.printmap",),
    "folium": ("geo_app.views", "geo_app.app"),
    "branca": ("geo_app.views", "geo_app.app"),
    "sqlalchemy": ("geo_app.io.store",),
    "topojson": ("geo_app.views.livemap",),  # the map's geometry as a topology, built once per data set
}

# Libraries geo_app no longer uses, and what replaced them: neither declared nor imported anywhere.
RETIRED: dict[str, str] = {
    "streamlit-folium": "the app's map is a Streamlit components v2 component (app/mapview.py, static/livemap)",
}


@pytest.mark.parametrize("package", sorted(CONFINED))
def test_heavy_libraries_stay_where_they_belong(package: str) -> None:
    bad = [_where(imp) for imp in IMPORTS if _top(imp.module) == package and not _in(imp, *CONFINED[package])]
    assert bad == [], f"only {CONFINED[package]} may import {package}:\n" + "\n".join(bad)


def test_confined_libraries_are_really_imported_where_allowed() -> None:
    """Each confined library is imported somewhere: a name no module imports any more would make its
    placement check above pass by seeing nothing."""
    unused = sorted(p for p in CONFINED if not any(_top(imp.module) == p for imp in IMPORTS))
    assert unused == [], f"CONFINED names libraries no module imports (retire them): {unused}"


def test_retired_libraries_are_gone() -> None:
    """A retired library is neither declared (runtime or dev) nor imported by geo_app, its tests,
    scripts or benchmarks, so it cannot come back unnoticed."""
    declared = _declared() | _names(_project()["optional-dependencies"]["dev"])
    assert sorted(declared & set(RETIRED)) == [], f"retired libraries still declared: {sorted(declared & set(RETIRED))}"
    modules = {_normalise(r).replace("-", "_") for r in RETIRED}
    folders = [ROOT / "tests", ROOT / "scripts", ROOT / "benchmarks"]
    others = [imp for folder in folders for path in sorted(folder.rglob("*.py")) for imp in _imports_of(path)]
    found = [_where(imp) for imp in [*IMPORTS, *others] if _top(imp.module) in modules]
    assert found == [], "retired libraries imported:\n" + "\n".join(found)


def test_importing_the_package_stays_light() -> None:
    """`import geo_app` (and every core module) loads no database, UI, web-map or plotting library."""
    core = sorted(_module_name(p) for p in (PACKAGE / "core").glob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for name in {['geo_app', *core]!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = ('sqlalchemy', 'streamlit', 'folium', 'branca', 'matplotlib', 'topojson')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _normalise(name: str) -> str:
    """PEP 503 normal form: 'Jinja2' and 'jinja2', 'matplotlib_fontja' and 'matplotlib-fontja' are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    names = {_normalise(re.split(r"[\s<>=!~\[;(]", req, maxsplit=1)[0]) for req in requirements}
    assert len(names) == len(requirements)
    return names


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _declared() -> set[str]:
    return _names(_project()["dependencies"])


def _third_party() -> dict[str, list[str]]:
    """Top-level third-party module → where it is imported."""
    found: dict[str, list[str]] = {}
    for imp in IMPORTS:
        top = _top(imp.module)
        if top and top != "geo_app" and top not in sys.stdlib_module_names and top != "__future__":
            found.setdefault(top, []).append(_where(imp))
    return found


def test_every_imported_library_is_declared() -> None:
    declared = _declared()
    dists = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_third_party().items()):
        candidates = {_normalise(d) for d in dists.get(module, [module])}
        if not candidates & declared:
            missing.append(f"{module} (distribution {sorted(candidates)}), e.g. {where[0]}")
    assert missing == [], "imported but not in [project].dependencies:\n" + "\n".join(missing)


def test_every_declared_dependency_is_used() -> None:
    dists = importlib.metadata.packages_distributions()
    imported = {_normalise(d) for module in _third_party() for d in dists.get(module, [module])}
    unused = sorted(_declared() - imported - set(RUNTIME_ONLY))
    assert unused == [], f"declared but never imported (add a reason to RUNTIME_ONLY if needed at run time): {unused}"
    stale = sorted(set(RUNTIME_ONLY) - _declared())
    assert stale == [], f"RUNTIME_ONLY names dependencies that are not declared: {stale}"


def test_tests_scripts_and_benchmarks_use_only_declared_libraries() -> None:
    """What the tests, scripts and benchmarks import is in the runtime or the dev dependencies."""
    declared = _declared() | _names(_project()["optional-dependencies"]["dev"])
    dists = importlib.metadata.packages_distributions()
    folders = [ROOT / "tests", ROOT / "scripts", ROOT / "benchmarks"]
    local = {p.stem for folder in folders for p in folder.rglob("*.py")} | {"geo_app", "golden"}
    missing = []
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        for imp in _imports_of(path):
            top = _top(imp.module)
            if not top or top in local or top in sys.stdlib_module_names or top == "__future__":
                continue
            if not {_normalise(d) for d in dists.get(top, [top])} & declared:
                missing.append(_where(imp))
    assert missing == [], "imported but not declared (dependencies or the dev extra):\n" + "\n".join(missing)

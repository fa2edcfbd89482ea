"""geo_app: design home-care medical areas (在宅医療圏) from municipal boundaries and census counts.

Data flows one way, visible in the folders: files (`io`) → municipalities → plan → areas (`core`)
→ views (`views`: maps, print, Excel, GIS layers, text) and the app (`app`, the only Streamlit
code). The package root re-exports the everyday entry points; the store (SQLAlchemy) is loaded
only when asked for, so `import geo_app` stays light.
"""

from __future__ import annotations

from typing import Any

from geo_app.core.dissolve import dissolve
from geo_app.core.errors import GeoAppError, InputError, PlanError
from geo_app.core.plan import LEVELS, Plan
from geo_app.io.municipalities import load_municipalities
from geo_app.io.plans import builtin_plans, load_plan
from geo_app.io.population import load_population
from geo_app.io.report import LoadReport

__all__ = [
    "ConflictError",
    "GeoAppError",
    "InputError",
    "PlanError",
    "PlanStore",
    "LoadReport",
    "LEVELS",
    "Plan",
    "builtin_plans",
    "dissolve",
    "load_municipalities",
    "load_plan",
    "load_population",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """PlanStore and ConflictError on first use (they bring SQLAlchemy)."""
    if name in ("PlanStore", "ConflictError"):
        from geo_app.io import store

        return getattr(store, name)
    raise AttributeError(f"module 'geo_app' has no attribute {name!r}")

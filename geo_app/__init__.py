"""geo_app: design home-care medical areas (在宅医療圏) from municipal boundaries and census counts.

Data flows one way: files → municipalities → plan → areas → views. This package root exposes
the core, which imports neither Streamlit nor folium.
"""
from .boundaries import LoadReport, load_municipalities
from .dissolve import dissolve
from .errors import GeoAppError, InputError, PlanError
from .plans import LEVELS, Plan, builtin_plans, load_plan
from .population import load_population
from .store import ConflictError, PlanStore

__all__ = [
    "ConflictError", "GeoAppError", "InputError", "PlanError", "PlanStore", "LoadReport", "LEVELS", "Plan",
    "builtin_plans", "dissolve", "load_municipalities", "load_plan", "load_population",
]
__version__ = "0.1.0"

"""core layer of geo_app (see the package docstring)."""

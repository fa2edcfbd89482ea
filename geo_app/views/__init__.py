"""views layer of geo_app (see the package docstring)."""

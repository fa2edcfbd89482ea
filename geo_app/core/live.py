"""Areas kept up to date edit by edit, for the app: `LivePlan` is `AreaTally`.

`dissolve` builds a plan's areas from scratch; after each click the app needs the same areas for
the edited plan without re-summing and re-unioning everything. `AreaTally.apply(new_plan)` takes
the municipalities whose assignment changed out of their old areas' rows and into their new ones
(old − outflow + inflow, integers, exact), re-derives only the touched areas (labels, km², coverage
union of their members) and returns the (level, area) pairs whose rows changed. It is the same
object as `dissolve`'s from-scratch branch, so `areas(level)` equals `dissolve(munis, plan, level)`
by construction (see `geo_app.core.tally`).
"""

from __future__ import annotations

from geo_app.core.tally import AreaTally

__all__ = ["LivePlan"]

#: The app's name for the tally of all three levels, with shapes (`LivePlan(munis, plan, graph=graph)`).
LivePlan = AreaTally

"""Emergency calls and multi-agency dispatch: calls, incidents and their timelines, units, recommendation."""

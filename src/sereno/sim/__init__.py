"""The simulated city: the bundled site, and (as capabilities land) synthetic cameras, calls and units."""

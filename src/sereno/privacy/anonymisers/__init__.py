"""Anonymiser plugins: each module defines NAME, Config (a strict pydantic model) and create(config)."""

"""Sereno: an open public-safety operations platform, private by default and accountable in every access."""

__version__ = "0.1.0"

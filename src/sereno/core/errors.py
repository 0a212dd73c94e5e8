"""Errors every capability raises for the usual refusals; the API maps each to one problem type."""


class SerenoError(Exception):
    pass


class NotFound(SerenoError):
    """Absent, or hidden from the caller: the two answers are deliberately the same."""


class Conflict(SerenoError):
    pass


class Invalid(SerenoError):
    pass


class Unavailable(SerenoError):
    """Exists, but cannot be served now (a camera with no anonymised view shows nothing rather than the original)."""

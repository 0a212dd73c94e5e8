"""Errors every capability raises for the usual refusals; the API maps each to one problem type."""


class SerenoError(Exception):
    pass


class NotFound(SerenoError):
    """Absent, or hidden from the caller: the two answers are deliberately the same."""


class Conflict(SerenoError):
    pass


class Invalid(SerenoError):
    pass

"""Errors of the auth capability; the API turns each into one problem type."""

from sereno.core.errors import Conflict, Invalid, NotFound, SerenoError

__all__ = ["AccountLocked", "AuthError", "Conflict", "Invalid", "InvalidCredentials", "NotFound"]


class AuthError(SerenoError):
    pass


class InvalidCredentials(AuthError):
    pass


class AccountLocked(AuthError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("account locked after repeated failed logins")
        self.retry_after_s = retry_after_s

"""Errors of the auth capability; the API turns each into one problem type."""


class AuthError(Exception):
    pass


class InvalidCredentials(AuthError):
    pass


class AccountLocked(AuthError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("account locked after repeated failed logins")
        self.retry_after_s = retry_after_s


class NotFound(AuthError):
    pass


class Conflict(AuthError):
    pass


class Invalid(AuthError):
    pass

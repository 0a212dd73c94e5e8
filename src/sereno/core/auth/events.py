"""Messages the auth capability publishes: the alerts capability raises a security alert from these."""

from sereno.core.messages import Message


class AccountLockedOut(Message):
    name = "auth.account_locked"
    version = 1

    username: str
    centre: str | None
    until_us: int

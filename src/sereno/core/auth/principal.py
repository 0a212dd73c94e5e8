"""Who is asking, what they may do, and which centres they may see."""

from dataclasses import dataclass

from sereno.core.auth.permissions import Permission, Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: Role
    centre: str | None
    centres: frozenset[str] | None  # None: every centre
    permissions: frozenset[Permission]
    via: str  # "session", "token" or "cli"

    @property
    def actor(self) -> str:
        return self.username if self.via == "cli" else f"user:{self.username}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def sees(self, centre: str | None) -> bool:
        """Records with no centre (national ones) are visible only to those who see every centre."""
        if self.centres is None:
            return True
        return centre is not None and centre in self.centres


def cli_principal(os_user: str) -> Principal:
    """The operating-system account running an admin command: trusted because it can read the data directory."""
    return Principal(
        user_id=0,
        username=f"cli:{os_user}",
        role=Role.ADMIN,
        centre=None,
        centres=None,
        permissions=frozenset(Permission),
        via="cli",
    )

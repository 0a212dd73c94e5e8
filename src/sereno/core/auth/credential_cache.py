"""Recently resolved credentials, so a busy client costs one dictionary lookup per request, not four queries.

Resolving a token or session reads the token, the user, the home centre and the grants. A call taker's
console or an AVL gateway repeats the same credential many times a second, so the answer is kept for a few
seconds. Three rules keep that safe:

- an entry never outlives the credential itself (its expiry, or a session's idle limit);
- every change this process makes to users, grants, tokens or sessions empties the cache at once;
- a change made by another replica (cluster mode) reaches this one within `ttl_s`, the stated trade-off
  (`auth.credential_cache_s`, 0 turns the cache off).
"""

import threading

from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock


class CredentialCache:
    def __init__(self, clock: Clock, ttl_s: float, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._ttl_us = int(ttl_s * 1e6)
        self._max = max_entries
        self._entries: dict[str, tuple[Principal, int]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Read before resolving and passed to `put`, so an answer computed across a change is not kept."""
        return self._generation

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, until_us = entry
        if self._clock.now_us() >= until_us:
            self._entries.pop(digest, None)
            return None
        return principal

    def put(self, digest: str, principal: Principal, valid_until_us: int, generation: int) -> None:
        if self._ttl_us <= 0:
            return
        until = min(valid_until_us, self._clock.now_us() + self._ttl_us)
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self._max:
                self._entries = {}
            self._entries[digest] = (principal, until)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries = {}

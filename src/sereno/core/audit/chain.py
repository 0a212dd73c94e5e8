"""The canonical encoding of an audit entry and its hash.

Fields are joined with the ASCII unit separator; no field may contain it (enforced at append, checked at
verification), which makes the encoding unambiguous without the cost of JSON-encoding every field: the
verifier hashes a million entries in a couple of seconds.
"""

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
SEP = "\x1f"


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str, seq: int, ts_us: int, actor: str, action: str, target: str, centre: str, outcome: str, details: str
) -> str:
    text = f"{prev_hash}\x1f{seq}\x1f{ts_us}\x1f{actor}\x1f{action}\x1f{target}\x1f{centre}\x1f{outcome}\x1f{details}"
    return hashlib.sha256(text.encode()).hexdigest()


def has_separator(*fields: str) -> bool:
    return any(SEP in f for f in fields)


def checkpoint_message(seq: int, entry_hash_hex: str, ts_us: int) -> bytes:
    return f"sereno-audit-checkpoint\x1f{seq}\x1f{entry_hash_hex}\x1f{ts_us}".encode()

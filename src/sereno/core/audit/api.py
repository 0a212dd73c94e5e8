"""Routes of the audit log: search (scoped to the caller's centres), verification status, public key."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from sereno.api.deps import Require, RuntimeDep
from sereno.core.audit.service import AuditQuery
from sereno.core.audit.verify import verify_log
from sereno.core.auth.permissions import Permission
from sereno.core.auth.principal import Principal

router = APIRouter(prefix="/api/audit", tags=["audit"])

Reader = Annotated[Principal, Depends(Require(Permission.AUDIT_READ))]
Verifier = Annotated[Principal, Depends(Require(Permission.AUDIT_VERIFY))]


class EntryOut(BaseModel):
    seq: int
    ts_us: int
    actor: str
    action: str
    target: str
    centre: str
    outcome: str
    details: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    checkpoints: int
    last_checkpoint_seq: int
    first_bad_seq: int | None
    problem: str
    seconds: float
    notes: list[str]


@router.get("/entries")
def search(
    principal: Reader,
    rt: RuntimeDep,
    actor: str | None = None,
    action: Annotated[str | None, Query(description="Prefix, e.g. 'auth.'")] = None,
    since_us: int | None = None,
    until_us: int | None = None,
    before_seq: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EntryOut]:
    query = AuditQuery(
        actor=actor,
        action=action,
        centres=principal.centres,
        since_us=since_us,
        until_us=until_us,
        before_seq=before_seq,
        limit=limit,
    )
    rows = rt.audit.search(query)
    rt.audit.record(
        actor=principal.actor,
        action="audit.search",
        target="audit",
        centre=principal.centre or "",
        details={"actor": actor, "action": action, "results": len(rows)},
    )
    return [
        EntryOut(
            seq=r.seq,
            ts_us=r.ts_us,
            actor=r.actor,
            action=r.action,
            target=r.target,
            centre=r.centre,
            outcome=r.outcome,
            details=r.details,
            hash=r.hash,
        )
        for r in rows
    ]


@router.get("/verify")
def verify(principal: Verifier, rt: RuntimeDep) -> VerifyOut:
    signer = rt.audit.signer
    report = verify_log(rt.db, {signer.key_id: signer.public})
    rt.audit.record(
        actor=principal.actor,
        action="audit.verify",
        target="audit",
        details={"ok": report.ok, "entries": report.entries},
    )
    return VerifyOut(**report.__dict__)


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(principal: Reader, rt: RuntimeDep) -> str:
    return rt.audit.signer.public_pem().decode()

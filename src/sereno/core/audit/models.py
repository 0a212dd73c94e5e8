"""Tables of the audit capability. Only `sereno.core.audit` code queries them."""

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sereno.core.db import Base
from sereno.core.types import BigIntPK


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    ts_us: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(200))
    centre: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement 'entry `seq` has hash `hash`': truncation or rewriting before it is detectable."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    ts_us: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


class AuditHead(Base):
    """The chain's tip, one row: appends lock it, so many writers (replicas) still form one chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))

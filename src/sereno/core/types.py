"""Column types shared by every capability's tables."""

from sqlalchemy import BigInteger, Integer

# A 64-bit integer primary key that is still SQLite's fast rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

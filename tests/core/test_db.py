import threading

import pytest
from sqlalchemy import text

from sereno.core.db import Database


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/x.db")
    with db.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_concurrent_writers_queue_instead_of_failing(database_url: str) -> None:
    db = Database(database_url)
    with db.write() as s:
        s.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        s.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with db.write() as s:
                    n = s.execute(text("SELECT n FROM counter" + ("" if db.is_sqlite else " FOR UPDATE"))).scalar_one()
                    s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as s:
        assert s.execute(text("SELECT n FROM counter")).scalar() == 100
    assert errors == []
    db.dispose()


def test_write_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url)
    with db.write() as s:
        s.execute(text("CREATE TABLE t (n INTEGER)"))
    with pytest.raises(ZeroDivisionError), db.write() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        _ = 1 / 0
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 0
    db.dispose()

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from sereno.core.db import Database
from sereno.core.direct import DirectCursor, DirectWriter


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    with db.write() as s:
        s.execute(text("CREATE TABLE counter (name VARCHAR(16) PRIMARY KEY, n INTEGER NOT NULL)"))
    yield db
    db.dispose()


UPSERT = (
    "INSERT INTO counter (name, n) VALUES (:name, :n) "
    "ON CONFLICT (name) DO UPDATE SET n = counter.n + excluded.n RETURNING n"
)


def test_a_transaction_commits_what_it_wrote_and_returns_its_result(db: Database) -> None:
    writer = DirectWriter(db)

    def work(cur: DirectCursor) -> tuple[object, ...] | None:
        cur.execute(UPSERT, {"name": "a", "n": 2})
        return cur.fetchone()

    assert writer.transaction(work) == (2,)
    assert writer.transaction(work) == (4,)
    writer.close()
    with db.read() as s:  # seen from another connection: committed
        assert s.execute(text("SELECT n FROM counter WHERE name = 'a'")).scalar() == 4


def test_executemany_writes_every_row(db: Database) -> None:
    writer = DirectWriter(db)
    rows = [{"name": f"r{i}", "n": i} for i in range(5)]
    writer.transaction(lambda cur: cur.executemany("INSERT INTO counter (name, n) VALUES (:name, :n)", rows))
    writer.close()
    with db.read() as s:
        assert s.execute(text("SELECT sum(n) FROM counter")).scalar() == 10


def test_a_failing_transaction_leaves_nothing_and_the_writer_goes_on(db: Database) -> None:
    writer = DirectWriter(db)

    def half_then_fail(cur: DirectCursor) -> None:
        cur.execute("INSERT INTO counter (name, n) VALUES (:name, :n)", {"name": "lost", "n": 1})
        cur.execute("INSERT INTO counter (name, n) VALUES (:name, :n)", {"name": "lost", "n": 1})  # duplicate key

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        writer.transaction(half_then_fail)
    writer.transaction(lambda cur: cur.execute("INSERT INTO counter (name, n) VALUES ('kept', 1)"))
    writer.close()
    with db.read() as s:
        assert s.execute(text("SELECT name FROM counter")).scalars().all() == ["kept"]


def test_concurrent_transactions_and_orm_writes_do_not_collide(db: Database) -> None:
    writer = DirectWriter(db)
    errors: list[BaseException] = []

    def direct() -> None:
        try:
            for _ in range(30):
                writer.transaction(lambda cur: cur.execute(UPSERT, {"name": "x", "n": 1}))
        except BaseException as exc:
            errors.append(exc)

    def orm() -> None:
        try:
            for _ in range(30):
                with db.write() as s:
                    s.execute(text(UPSERT), {"name": "x", "n": 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (direct, direct, orm)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert errors == []
    with db.read() as s:
        assert s.execute(text("SELECT n FROM counter WHERE name = 'x'")).scalar() == 90


def test_double_colons_are_not_taken_for_parameters(db: Database) -> None:
    writer = DirectWriter(db)
    cast = "CAST(:n AS INTEGER)" if db.is_sqlite else ":n::integer"
    insert = f"INSERT INTO counter (name, n) VALUES (:name, {cast})"
    writer.transaction(lambda cur: cur.execute(insert, {"name": "c", "n": "7"}))
    writer.close()
    with db.read() as s:
        assert s.execute(text("SELECT n FROM counter WHERE name = 'c'")).scalar() == 7

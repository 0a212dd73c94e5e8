"""Call intake at a busy centre's peak: many calls a second, each one committed before it is acknowledged.

Committing each call in its own transaction costs more than recording it, and a thread per request queues on
SQLite's single writer. Instead one writer thread takes every call waiting, records them in one transaction
(group commit), looks up their duplicate suggestions in one read, and answers each waiting request. Under
light load a batch is one call and nothing waits; under heavy load a batch grows and the cost per call falls.
A call that cannot be taken (no jurisdiction, half a position) fails alone; a database failure fails the
batch it hit, and every caller in it gets the error (nothing is acknowledged that was not committed).
"""

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from sereno.core.auth.principal import Principal
from sereno.core.errors import Invalid
from sereno.dispatch.service import CallView, DispatchService, DuplicateSuggestion, NewCall

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TakenCall:
    call: CallView
    duplicates: list[DuplicateSuggestion]


@dataclass
class _Waiting:
    actor: Principal
    new: NewCall
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[TakenCall]"


class IntakeBatcher:
    def __init__(self, service: DispatchService, max_batch: int = 256) -> None:
        self._service = service
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.calls = 0

    async def take(self, actor: Principal, new: NewCall) -> TakenCall:
        """Records the call and returns it with its duplicate suggestions once it is committed."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TakenCall] = loop.create_future()
        self._queue.put(_Waiting(actor, new, loop, future))
        return await future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="call-intake", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[_Waiting]) -> None:
        try:
            taken = self._service.take_calls([(w.actor, w.new) for w in batch])
            recorded = [(w.actor, t) for w, t in zip(batch, taken, strict=True) if isinstance(t, CallView)]
            suggestions = iter(self._service.duplicates_for(recorded))
        except Exception as exc:  # the whole batch failed to commit: every caller hears so
            log.exception("call intake batch of %d failed", len(batch))
            for waiting in batch:
                _answer(waiting, exc)
            return
        self.batches += 1
        self.calls += len(recorded)
        for waiting, outcome in zip(batch, taken, strict=True):
            if isinstance(outcome, Invalid):
                _answer(waiting, outcome)
            else:
                _answer(waiting, TakenCall(outcome, next(suggestions)))


def _answer(waiting: _Waiting, outcome: TakenCall | BaseException) -> None:
    def deliver() -> None:
        if waiting.future.done():  # the request was cancelled (client went away); the call is still kept
            return
        if isinstance(outcome, BaseException):
            waiting.future.set_exception(outcome)
        else:
            waiting.future.set_result(outcome)

    try:
        waiting.loop.call_soon_threadsafe(deliver)
    except RuntimeError:  # that event loop has closed
        log.warning("a call was recorded after its request's event loop closed; it is kept, unanswered")

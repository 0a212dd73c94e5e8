"""A worker's cameras' frames analysed back to back on one thread, instead of each on its camera's thread the
moment it is decoded.

Why: at 5 fps a camera's thread wakes for one frame every 200 ms and finds the analysis code and its data gone
from the CPU's caches. Measured on this project's 2-vCPU machines with 8 sub streams at 640x360, a frame's
motion, tracking and rules cost 0.91 ms alone and 0.41 ms when run right after another camera's frame. Frames
that arrive within a short window are therefore gathered and run together: 200 ms by default, which took
bench/analytics.py's analysed throughput from 75-89 to 107-133 streams per core (ratio 0.40-0.55 against a
noisy decode-only baseline, from 0.26-0.45) for an alert latency p99 of ~250 ms, half the 500 ms budget.
Since the bench replays one recording to both phases (no live encoder sharing the cores) its ratio reads
0.42-0.53, p99 230-380 ms: the live encoders had made decoding look dearer than it is. With the stepwise jobs
and the sleeping window below (and the decoding thread handing frames on untouched, see stream.py) analysed
throughput rose to 128-169 streams per core and the bench's ratio reads 0.43-0.48 (0.44-0.53 when variants are
compared within one run); the machine's speed moves both phases, decode-only reading 271-378 between runs.
A batch ends when every camera of the last batch has a frame waiting again, or at the end of the window,
whichever comes first (see `_run`): one frame of each camera, in one wave (A/B in one run: the lane 5% cheaper
a frame than waiting out the window), and cameras whose frames come together are not held for the window.
With that and the alerts' and health reports' direct writes (`core/direct.py`), on a faster 2-vCPU machine
(decode-only 447-578 streams per core) the bench read ratios of 0.49-0.52, alert latency p99 ~205 ms.
Each camera is served by one lane, so its frames stay in order and its pipeline is never run by two threads
at once; with several lanes, the detector pool can batch their requests.

A job may be a generator that pauses between the steps of its work (motion, detection, tracking, rules,
alerts): the lane then takes the whole batch through each step before the next, so that each step's code and
tables are loaded once for all the cameras instead of once per camera (on a bench of 8 cameras, 430-490 us a
frame against 480-600 run camera by camera). A camera with two frames in one batch has them in two waves, so
its second frame starts only once its first is done.

The queue is bounded: a worker that cannot keep up turns frames away (counted per camera by the caller)
rather than holding decoded pictures without end.
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Runs the work, or returns an iterator that does it step by step, one step per next() (see the docstring).
Job = Callable[[], Iterator[None] | None]
Queued = tuple[str, Job]  # the camera, its frame's job


@dataclass
class RunnerStats:
    jobs: int = 0
    batches: int = 0
    largest_batch: int = 0
    failed: int = 0  # jobs that raised: logged, the lane goes on
    turned_away: int = 0  # frames refused because too many were waiting


class _Lane:
    """One lane's queue and the round it is gathering: the cameras with a frame waiting since the last batch,
    against those of the last batch, whose frames are expected again (see AnalysisRunner._run)."""

    def __init__(self) -> None:
        self.waiting: queue.SimpleQueue[Queued | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.arrived: set[str] = set()
        self.expected: frozenset[str] = frozenset()
        self.complete = threading.Event()

    def put(self, camera_id: str, job: Job) -> None:
        with self.lock:  # queued and counted together, so that a frame taken is never counted in the next round
            self.waiting.put((camera_id, job))
            self.arrived.add(camera_id)
            if self.expected and self.expected <= self.arrived:
                self.complete.set()

    def take(self, first: Queued) -> tuple[list[Queued], bool]:
        """`first` and everything queued after it (and whether the runner is closing), and a new round begun."""
        batch = [first]
        closing = False
        with self.lock:
            while True:
                try:
                    queued = self.waiting.get_nowait()
                except queue.Empty:
                    break
                if queued is None:
                    closing = True
                    break
                batch.append(queued)
            self.expected = frozenset(camera for camera, _job in batch)
            self.arrived = set()
            self.complete.clear()
        return batch, closing


class AnalysisRunner:
    def __init__(self, lanes: int = 1, gather_s: float = 0.2, max_waiting: int = 256) -> None:
        self.gather_s = gather_s
        self.max_waiting = max_waiting
        self.stats = RunnerStats()
        self._lanes = [_Lane() for _ in range(max(1, lanes))]
        self._lane_of: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, args=(lane,), name=f"analysis-lane-{i}", daemon=True)
            for i, lane in enumerate(self._lanes)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, camera_id: str, job: Job) -> bool:
        """Queues `job` on the camera's lane; False when the runner is closed or too much already waits."""
        index = self._lane_of.get(camera_id)  # a camera's lane is chosen once, under the lock; read without it
        if index is None:
            with self._lock:
                index = self._lane_of.setdefault(camera_id, len(self._lane_of) % len(self._lanes))
        lane = self._lanes[index]
        if self._closed:  # (a job racing close() lands after the lane's last item and is never run: it is stopping)
            return False
        if lane.waiting.qsize() >= self.max_waiting:
            self.stats.turned_away += 1
            return False
        lane.put(camera_id, job)
        return True

    def close(self, wait_s: float = 15.0) -> None:
        """Runs what is already queued, then stops the lanes."""
        with self._lock:
            self._closed = True
            for lane in self._lanes:
                lane.waiting.put(None)
                lane.complete.set()  # no lane waits out its window now
        for thread in self._threads:
            thread.join(wait_s)

    def _run(self, lane: _Lane) -> None:
        """Waits for a frame, then for the round to complete (or the window to end), then takes everything that
        came meanwhile.

        A round is complete once every camera of the last batch has a frame waiting again: at a steady frame
        rate that is one frame of every camera, whatever their phases, so a batch is one wave, and cameras
        whose frames come close together (or a lone camera) are not held for the rest of the window. The
        window (`gather_s`) bounds the wait when a camera is late or gone; a camera missing from a batch is
        not waited for in the next. Cameras that all deliver within a few milliseconds of each other, as the
        bench's replayed recording does, waited the whole 200 ms window before and then met the first
        camera's next frame: batches of 9-13 frames in two waves, the second of 1-5 frames.

        The lane sleeps rather than waiting on the queue for each frame: a camera's put wakes no thread unless
        it completes the round, and the lane wakes once a batch instead of once a frame (8 cameras, A/B in one
        run: the lane 0.53 ms a frame against 0.66, the bench's ratio 0.528 against 0.474). Closing cuts the
        wait short."""
        while True:
            first = lane.waiting.get()
            if first is None:
                return
            lane.complete.wait(self.gather_s)
            batch, closing = lane.take(first)
            self._execute(batch)
            if closing:
                return

    def _execute(self, batch: list[Queued]) -> None:
        stats = self.stats
        stats.batches += 1
        stats.jobs += len(batch)
        stats.largest_batch = max(stats.largest_batch, len(batch))
        waves: list[list[Job]] = []
        taken: dict[str, int] = {}
        for camera_id, job in batch:  # a camera's n-th frame of the batch goes in the n-th wave
            wave = taken.get(camera_id, 0)
            taken[camera_id] = wave + 1
            if wave == len(waves):
                waves.append([])
            waves[wave].append(job)
        for jobs in waves:
            self._in_steps(jobs)

    def _in_steps(self, jobs: list[Job]) -> None:
        """Starts every job, then advances the stepwise ones together, a step at a time, until all are done."""
        stepping = []
        for job in jobs:
            try:
                steps = job()
            except Exception:
                self._failed()
                continue
            if steps is not None:
                stepping.append(steps)
        while stepping:
            going = []
            for steps in stepping:
                try:
                    next(steps)
                except StopIteration:
                    continue
                except Exception:
                    self._failed()
                    continue
                going.append(steps)
            stepping = going

    def _failed(self) -> None:
        """One camera's failure must not stop the others sharing this lane: logged, counted, the lane goes on."""
        self.stats.failed += 1
        log.exception("analysis of a frame failed")

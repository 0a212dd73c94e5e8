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


class AnalysisRunner:
    def __init__(self, lanes: int = 1, gather_s: float = 0.2, max_waiting: int = 256) -> None:
        self.gather_s = gather_s
        self.max_waiting = max_waiting
        self.stats = RunnerStats()
        self._queues: list[queue.SimpleQueue[Queued | None]] = [queue.SimpleQueue() for _ in range(max(1, lanes))]
        self._lane_of: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._closing = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(q,), name=f"analysis-lane-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, camera_id: str, job: Job) -> bool:
        """Queues `job` on the camera's lane; False when the runner is closed or too much already waits."""
        lane = self._lane_of.get(camera_id)  # a camera's lane is chosen once, under the lock; read without it
        if lane is None:
            with self._lock:
                lane = self._lane_of.setdefault(camera_id, len(self._lane_of) % len(self._queues))
        waiting = self._queues[lane]
        if self._closed:  # (a job racing close() lands after the lane's last item and is never run: it is stopping)
            return False
        if waiting.qsize() >= self.max_waiting:
            self.stats.turned_away += 1
            return False
        waiting.put((camera_id, job))
        return True

    def close(self, wait_s: float = 15.0) -> None:
        """Runs what is already queued, then stops the lanes."""
        with self._lock:
            self._closed = True
            for waiting in self._queues:
                waiting.put(None)
            self._closing.set()
        for thread in self._threads:
            thread.join(wait_s)

    def _run(self, waiting: "queue.SimpleQueue[Queued | None]") -> None:
        """Waits for a frame, sleeps out the window, then takes everything that came meanwhile.

        Sleeping rather than waiting on the queue for each frame: nobody waits on the queue during the window,
        so a camera's put wakes no thread, and the lane wakes once a batch instead of once a frame (8 cameras,
        A/B in one run: the lane 0.53 ms a frame against 0.66, the bench's ratio 0.528 against 0.474). Closing
        cuts the sleep short."""
        while True:
            first = waiting.get()
            if first is None:
                return
            self._closing.wait(self.gather_s)  # set by close(), which must not wait out a window
            batch, closing = [first], False
            while True:
                try:
                    queued = waiting.get_nowait()
                except queue.Empty:
                    break
                if queued is None:
                    closing = True
                    break
                batch.append(queued)
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

"""The tracker: stable ids within one camera, by overlap first and then by nearest centre, one label at a time,
and tracks that end when their object has not been seen for a while."""

import random

from sereno.analytics.scene import Box, Detection
from sereno.analytics.tracking import Tracker, TrackerConfig, _shape, iou

SECOND = 1_000_000


def person(x: float, y: float, size: float = 0.1, label: str = "person") -> Detection:
    return Detection(Box(x, y, x + size, y + size), label, 0.9)


def test_an_object_moving_a_little_each_frame_keeps_its_id() -> None:
    tracker = Tracker()
    ids = {tracker.update([person(0.1 + 0.02 * k, 0.5)], k * SECOND // 5)[0].id for k in range(20)}
    assert len(ids) == 1


def test_a_jump_within_the_limit_continues_the_track_and_a_longer_one_starts_a_new_one() -> None:
    tracker = Tracker(TrackerConfig(max_jump=0.12))
    first = tracker.update([person(0.1, 0.5)], 0)[0]
    near = tracker.update([person(0.21, 0.5)], 200_000)[0]  # no overlap left, centres 0.11 apart
    far = tracker.update([person(0.45, 0.5)], 400_000)[0]  # 0.24 away
    assert near.id == first.id
    assert far.id != first.id


def test_labels_never_share_a_track() -> None:
    tracker = Tracker()
    walker = tracker.update([person(0.3, 0.3)], 0)[0]
    car = tracker.update([person(0.3, 0.3, label="vehicle")], 200_000)[0]
    assert car.id != walker.id and car.label == "vehicle"


def test_two_objects_side_by_side_each_keep_their_own_id() -> None:
    tracker = Tracker()
    left, right = tracker.update([person(0.1, 0.5), person(0.3, 0.5)], 0)
    for k in range(1, 10):
        moved = tracker.update([person(0.3 + 0.01 * k, 0.5), person(0.1 + 0.01 * k, 0.5)], k * 200_000)
        assert {t.id: round(t.box.x0, 2) for t in moved} == {
            right.id: round(0.3 + 0.01 * k, 2),
            left.id: round(0.1 + 0.01 * k, 2),
        }


def test_the_best_overlap_wins_when_two_detections_want_one_track() -> None:
    tracker = Tracker()
    old = tracker.update([person(0.5, 0.5)], 0)[0]
    good, poor = person(0.51, 0.5), person(0.56, 0.5)
    seen = tracker.update([poor, good], 200_000)
    assert next(t for t in seen if t.id == old.id).box == good.box
    assert len({t.id for t in seen}) == 2


def test_a_track_unseen_longer_than_its_age_ends_and_its_object_comes_back_new() -> None:
    tracker = Tracker(TrackerConfig(max_age_s=2.0))
    first = tracker.update([person(0.4, 0.4)], 0)[0]
    tracker.update([], 1 * SECOND)
    assert first.id in tracker.tracks
    tracker.update([], 3 * SECOND)
    assert tracker.tracks == {}
    again = tracker.update([person(0.4, 0.4)], 3 * SECOND + 200_000)[0]
    assert again.id != first.id


def test_a_track_remembers_its_path_of_foot_points() -> None:
    tracker = Tracker()
    for k in range(3):
        track = tracker.update([person(0.1 + 0.02 * k, 0.5)], k * 200_000)[0]
    assert [when for when, _foot in track.path] == [0, 200_000, 400_000]
    assert track.path[-1][1] == track.box.foot


def test_pair_scores_are_the_overlap_and_the_closeness_of_the_box_arithmetic() -> None:
    """The scoring works on plain floats for speed; it must say what `iou` and Box.centre say."""
    chance = random.Random(7)
    config = TrackerConfig()
    tracker = Tracker(config)

    def somewhere() -> Detection:
        x, y = chance.random() * 0.8, chance.random() * 0.8
        return Detection(Box(x, y, x + chance.uniform(0.01, 0.2), y + chance.uniform(0.01, 0.2)), "moving", 1.0)

    for frame in range(60):
        before = {tid: track.box for tid, track in tracker.tracks.items()}
        detections = [somewhere() for _ in range(chance.randint(0, 6))]
        expected = set()
        for tid, box in before.items():
            for index, detection in enumerate(detections):
                overlap = iou(box, detection.box)
                (ax, ay), (bx, by) = box.centre, detection.box.centre
                distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
                if overlap >= config.min_overlap:
                    expected.add((round(1 + overlap, 9), tid, index))
                elif distance < config.max_jump:
                    expected.add((round(1 - distance / config.max_jump, 9), tid, index))
        found = [_shape(d.label, d.box) for d in detections]
        got = {(round(score, 9), tid, index) for score, tid, index in tracker._pairs(found)}
        assert got == expected, frame
        tracker.update(detections, frame * 200_000)

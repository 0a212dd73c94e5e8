"""The call generator: a day-shaped Poisson stream, the misuse share, repeat calls near their first call,
every call inside a jurisdiction, the same day for the same seed."""

import itertools

from sereno.config.site import SiteConfig
from sereno.sim.calls import HOUR_US, CallGenerator

DAY0 = 1_767_225_600_000_000  # midnight UTC


def test_the_stream_follows_the_day_and_the_mix(site: SiteConfig) -> None:
    calls = CallGenerator(site, calls_per_day=4000, seed=3).calls(DAY0, 24)
    assert 3600 < len(calls) < 4400
    by_hour = [0] * 24
    for call in calls:
        by_hour[(call.at_us - DAY0) // HOUR_US] += 1
    assert by_hour[19] > 2.5 * by_hour[3]  # evening peak against the small hours
    misuse = sum(c.kind == "misuse" for c in calls) / len(calls)
    assert 0.44 < misuse < 0.52
    assert {c.type_code for c in calls if c.kind == "incident"} == {t.code for t in site.dispatch.incident_types}
    assert all(c.at_us < d.at_us for c, d in itertools.pairwise(calls))


def test_repeat_calls_are_near_an_earlier_incident_and_every_call_is_inside_a_jurisdiction(site: SiteConfig) -> None:
    calls = CallGenerator(site, calls_per_day=3000, seed=4).calls(DAY0 + 18 * HOUR_US, 3)
    repeats = [c for c in calls if c.kind == "duplicate"]
    assert repeats
    for repeat in repeats:
        assert repeat.duplicate_of is not None
        first = calls[repeat.duplicate_of]
        assert first.kind == "incident" and first.at_us < repeat.at_us
        assert abs(first.lat - repeat.lat) < 0.001 and abs(first.lon - repeat.lon) < 0.001
    areas = [c.jurisdiction for c in site.centres if c.jurisdiction is not None]
    assert all(any(a.contains(c.lat, c.lon) for a in areas) for c in calls if c.kind != "duplicate")


def test_same_seed_same_day(site: SiteConfig) -> None:
    first = CallGenerator(site, calls_per_day=500, seed=9).calls(DAY0, 2)
    assert first == CallGenerator(site, calls_per_day=500, seed=9).calls(DAY0, 2)
    assert first != CallGenerator(site, calls_per_day=500, seed=10).calls(DAY0, 2)

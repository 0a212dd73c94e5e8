"""A simulated hour replayed against the real services: every call accounted for, units never double-booked,
the KPIs computed from what happened."""

from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.core.auth.principal import cli_principal
from sereno.core.clock import ManualClock
from sereno.sim.calls import CallGenerator
from sereno.sim.day import SimulatedDay


def test_a_simulated_hour(rt: Runtime, clock: ManualClock, site: SiteConfig) -> None:
    clock.advance(18 * 3600)  # the evening peak
    day = SimulatedDay(rt, clock, CallGenerator(site, calls_per_day=1200, seed=2), seed=2)
    report = day.run(1.0)
    stats = day.stats
    assert stats.calls > 20 and stats.outside_jurisdiction == 0
    assert stats.misuse + stats.merged + stats.incidents <= stats.calls
    assert report.calls_by_outcome.get("misuse", 0) == stats.misuse
    assert stats.dispatches > 0 and stats.positions_reported > 0 and stats.errors == 0
    metrics = {r.metric for r in report.rows}
    assert {"answer", "processing"} <= metrics
    everyone = cli_principal("tester")
    for unit in rt.units.units(everyone):  # a unit is on an incident exactly when its status says so
        assert (unit.incident_id is not None) == (unit.status in ("dispatched", "en-route", "on-scene")), unit
    for incident in rt.dispatch.incidents(everyone, include_closed=True):
        kinds = [e.kind for e in rt.dispatch.timeline(everyone, incident.id)]
        assert kinds[:2] == ["created", "call"]
        if incident.first_dispatch_us is not None:
            assert "dispatch" in kinds and incident.first_dispatch_us >= incident.answered_us

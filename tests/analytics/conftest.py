"""Fixtures for analytics over real RTSP: a runtime on the system clock (frames, dwell times and frame-rate
caps are real time there), on SQLite and PostgreSQL like every database test."""

from collections.abc import Iterator

import pytest

from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig


@pytest.fixture
def live_rt(settings: Settings, site: SiteConfig) -> Iterator[Runtime]:
    runtime = Runtime.build(settings)
    runtime.directory.sync_centres(site, "test")
    try:
        yield runtime
    finally:
        runtime.close()

"""Assembles the FastAPI app from each capability's router."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from sereno import __version__
from sereno.alerts import api as alerts_api
from sereno.api import health, problems
from sereno.app import Runtime
from sereno.cameras import api as cameras_api
from sereno.console import api as console_api
from sereno.core.audit import api as audit_api
from sereno.core.auth import api as auth_api
from sereno.core.bus import InProcessBus
from sereno.core.relay import RelayingBus, RelayReceiver, socket_path
from sereno.dispatch import api as dispatch_api
from sereno.ingest import api as ingest_api
from sereno.privacy import api as privacy_api
from sereno.recording import api as recording_api

# Routes are matched in this order, one router after another: the ones called many times a second (call
# intake, AVL positions, live video) come first. Prefixes do not overlap, so the order changes nothing else.
ROUTERS = (
    dispatch_api.router,
    alerts_api.router,
    privacy_api.router,
    health.router,
    auth_api.router,
    audit_api.router,
    cameras_api.router,
    ingest_api.router,
    recording_api.router,
    console_api.router,
)


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.bus.start()
        relay = None
        if isinstance(runtime.bus, InProcessBus) and not isinstance(runtime.bus, RelayingBus):
            # the embedded server: its workers' events arrive here
            relay = RelayReceiver(runtime.bus, socket_path(runtime.settings.data_dir))
            relay.start()
        runtime.audit.record(actor="system", action="service.start", target="api")
        escalation = asyncio.create_task(runtime.alerts.escalate_forever(), name="alerts:escalate")
        yield
        escalation.cancel()
        with suppress(asyncio.CancelledError):
            await escalation
        runtime.audit.record(actor="system", action="service.stop", target="api")
        runtime.audit.checkpoint()
        if relay is not None:
            relay.stop()
        await runtime.bus.close()

    app = FastAPI(
        title="Sereno",
        version=__version__,
        lifespan=lifespan,
        description="Public-safety operations: private by default, accountable in every access.",
    )
    app.state.runtime = runtime
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static/leaflet", console_api.leaflet_files, name="leaflet")
    app.mount("/static", console_api.static_files, name="static")
    return app

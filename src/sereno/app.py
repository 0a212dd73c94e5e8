"""Composition root: builds the services from settings and wires them together. No logic lives here."""

from dataclasses import dataclass

from sereno.alerts.service import AlertService
from sereno.alerts.snapshots import SnapshotStore
from sereno.cameras.service import CameraService
from sereno.config.settings import Settings
from sereno.console.service import LiveFeed
from sereno.core import migrate
from sereno.core.audit.service import AuditLog
from sereno.core.audit.signing import CheckpointSigner
from sereno.core.auth.credential_cache import CredentialCache
from sereno.core.auth.directory import Directory
from sereno.core.auth.passwords import Passwords
from sereno.core.auth.service import AuthService
from sereno.core.auth.throttle import LoginThrottle
from sereno.core.bus import EventBus, InProcessBus
from sereno.core.clock import Clock, SystemClock
from sereno.core.db import Database
from sereno.core.sealing import MasterKeys
from sereno.dispatch.intake import IntakeBatcher
from sereno.dispatch.kpis import KpiService
from sereno.dispatch.service import DispatchService
from sereno.dispatch.units import UnitService
from sereno.ingest.service import IngestService
from sereno.privacy.ring import FrameRing
from sereno.privacy.service import PrivacyService
from sereno.recording.retention import RetentionService
from sereno.recording.service import RecordingService
from sereno.recording.storage import LocalSegmentStore


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    bus: EventBus
    audit: AuditLog
    auth: AuthService
    directory: Directory
    throttle: LoginThrottle
    cameras: CameraService
    keys: MasterKeys
    ingest: IngestService
    recording: RecordingService
    retention: RetentionService
    privacy: PrivacyService
    dispatch: DispatchService
    intake: IntakeBatcher
    units: UnitService
    kpis: KpiService
    alerts: AlertService
    live: LiveFeed

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        run_migrations: bool = True,
        bus: InProcessBus | None = None,
    ) -> "Runtime":
        """`bus`: a worker process passes a `RelayingBus`, so what it publishes reaches the API server too."""
        clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url())
        if run_migrations:
            migrate.upgrade(db)
        bus = bus or InProcessBus()
        signer = CheckpointSigner.load_or_create(settings.keys_dir)
        audit = AuditLog(db, clock, signer, checkpoint_every=settings.audit_checkpoint_every, bus=bus)
        passwords = Passwords(settings.auth)
        credentials = CredentialCache(clock, settings.auth.credential_cache_s)
        directory = Directory(db, clock, audit, passwords, credentials)
        keys = MasterKeys.load_or_create(settings.keys_dir)
        cameras = CameraService(db, clock, audit, directory, keys, bus)
        store = LocalSegmentStore(settings.media_dir)
        recording = RecordingService(db, clock, audit, cameras, keys, store, bus)
        dispatch = DispatchService(db, clock, bus=bus)
        ring = FrameRing(settings.live_dir)
        alerts = AlertService(
            db, clock, audit, cameras, dispatch, ring, SnapshotStore(settings.data_dir / "alerts"), settings.alerts, bus
        )
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            bus=bus,
            audit=audit,
            auth=AuthService(db, clock, audit, passwords, settings.auth, bus, credentials),
            directory=directory,
            throttle=LoginThrottle(clock, settings.auth.attempts_per_minute_per_client),
            cameras=cameras,
            keys=keys,
            ingest=IngestService(db, clock, cameras),
            recording=recording,
            retention=RetentionService(db, clock, audit, cameras, store, bus),
            privacy=PrivacyService(cameras, recording, audit, ring),
            dispatch=dispatch,
            intake=IntakeBatcher(dispatch),
            units=UnitService(db, clock, audit, dispatch, bus),
            kpis=KpiService(db, lambda: dispatch.site),
            alerts=alerts,
            live=LiveFeed(bus),
        )

    def close(self) -> None:
        self.intake.close()
        self.audit.close()
        self.ingest.close()
        self.alerts.close()
        self.db.dispose()

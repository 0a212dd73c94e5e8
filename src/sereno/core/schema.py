"""Every capability's tables, imported in one place so migrations and tests see the whole schema."""

from sereno.alerts import models as alert_models
from sereno.cameras import models as camera_models
from sereno.core.audit import models as audit_models
from sereno.core.auth import models as auth_models
from sereno.core.db import Base
from sereno.dispatch import models as dispatch_models
from sereno.ingest import models as ingest_models
from sereno.recording import models as recording_models

metadata = Base.metadata
MODEL_MODULES = (
    alert_models,
    audit_models,
    auth_models,
    camera_models,
    dispatch_models,
    ingest_models,
    recording_models,
)

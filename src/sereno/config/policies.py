"""Site section `[policies]`: site-wide rules that people, not code, decide (and auditors read)."""

from pydantic import Field

from sereno.config.base import StrictModel


class PoliciesConfig(StrictModel):
    default_retention_days: int = Field(default=30, ge=1, le=3650, title="Default retention (days)")
    break_glass_approvers: int = Field(
        default=2, ge=2, le=5, title="Break-glass approvers", description="People who must approve opening originals"
    )
    break_glass_max_hours: int = Field(default=24, ge=1, le=168, title="Break-glass window (hours)")
    transparency_report_public: bool = Field(default=True, title="Publish transparency report")

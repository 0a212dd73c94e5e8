from pathlib import Path

import pytest
from pydantic import ValidationError

from sereno.config.settings import Settings


def test_environment_sets_fields_and_nested_sections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SERENO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SERENO_AUTH__LOCKOUT_MINUTES", "3")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.auth.lockout_minutes == 3
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'sereno.db'}"


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(data_dirr="x")  # type: ignore[call-arg]


def test_analytics_workers_are_tuned_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERENO_ANALYTICS__GATHER_MS", "120")
    monkeypatch.setenv("SERENO_ANALYTICS__POOL__TIMEOUT_S", "2.5")
    settings = Settings()
    assert settings.analytics.gather_ms == 120
    assert settings.analytics.pool.timeout_s == 2.5
    with pytest.raises(ValidationError):
        Settings(analytics={"gather_ms": -1})

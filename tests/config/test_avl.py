"""The `avl` settings section: off unless configured, read from SERENO_AVL__*, the password kept out of sight."""

import pytest
from pydantic import ValidationError

from sereno.config.avl import AvlSettings
from sereno.config.settings import Settings


def test_avl_is_off_unless_configured() -> None:
    avl = Settings().avl
    assert not avl.enabled
    assert (avl.host, avl.port, avl.topic_prefix) == ("127.0.0.1", 1883, "sereno/avl")


def test_environment_configures_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERENO_AVL__ENABLED", "true")
    monkeypatch.setenv("SERENO_AVL__HOST", "broker.city.example")
    monkeypatch.setenv("SERENO_AVL__PORT", "8883")
    monkeypatch.setenv("SERENO_AVL__TLS", "true")
    monkeypatch.setenv("SERENO_AVL__TOPIC_PREFIX", "city/units")
    monkeypatch.setenv("SERENO_AVL__USERNAME", "sereno")
    monkeypatch.setenv("SERENO_AVL__PASSWORD", "s3cret-pass")
    avl = Settings().avl
    assert avl.enabled and avl.tls
    assert (avl.host, avl.port, avl.topic_prefix, avl.username) == ("broker.city.example", 8883, "city/units", "sereno")
    assert avl.password is not None and avl.password.get_secret_value() == "s3cret-pass"
    assert "s3cret-pass" not in repr(avl) and "s3cret-pass" not in str(Settings().model_dump())


@pytest.mark.parametrize("prefix", ["sereno/#", "sereno/+/x", "/sereno", "sereno/", "a//b", ""])
def test_a_prefix_that_would_widen_the_subscription_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError):
        AvlSettings(topic_prefix=prefix)


@pytest.mark.parametrize(
    "fields",
    [{"password": "x"}, {"port": 0}, {"qos": 2}, {"max_message_bytes": 10}, {"max_age_s": 0}, {"topic": "x"}],
)
def test_bad_values_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AvlSettings.model_validate(fields)

"""The anonymiser registry: plugins are discovered; no anonymiser, or an unknown one, fails closed."""

import pytest

from sereno.privacy.anonymiser import AnonymiserUnavailable, create, registry


def test_the_default_plugin_is_discovered() -> None:
    assert "pixelate-motion" in registry()
    assert create("pixelate-motion").name == "pixelate-motion"


@pytest.mark.parametrize(("name", "message"), [(None, "shows nothing"), ("", "shows nothing"), ("x-ray", "unknown")])
def test_no_usable_anonymiser_is_refused(name: str | None, message: str) -> None:
    with pytest.raises(AnonymiserUnavailable, match=message):
        create(name)

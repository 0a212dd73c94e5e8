"""Site file errors name the file, the key and what is wrong."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sereno.config.site import SiteConfigError, load_site
from sereno.sim.demo import bundled_site_path

GOOD = bundled_site_path().read_text()


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "site.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(SiteConfigError) as err:
        load_site(path)
    assert err.value.path == path
    return err.value.problems


def test_bundled_site_is_valid() -> None:
    site = load_site(bundled_site_path())
    assert {c.code for c in site.centres} == {"north", "centre", "south"}
    assert all(cam.purpose and cam.retention_days for cam in site.cameras)


def test_unknown_key_is_named_with_its_entry(tmp_path: Path) -> None:
    text = GOOD.replace("retention_days = 14", "retention_days = 14\nretention_dayz = 7")
    assert problems(tmp_path, text) == [
        "cameras[1] ('cam-av-10-agosto').retention_dayz: unknown key (not part of the site schema; check the spelling)"
    ]


def test_camera_without_purpose_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('purpose = "Traffic incidents and stopped vehicles at a major junction"\n', "")
    assert problems(tmp_path, text) == ["cameras[1] ('cam-av-10-agosto').purpose: required key is missing"]


def test_out_of_range_values_say_why(tmp_path: Path) -> None:
    text = GOOD.replace("retention_days = 14", "retention_days = 0").replace("lat = -0.2010", "lat = 91.5")
    found = problems(tmp_path, text)
    assert any(p.startswith("cameras[1] ('cam-av-10-agosto').lat:") and "less than or equal to 90" in p for p in found)
    assert any(p.startswith("cameras[1] ('cam-av-10-agosto').retention_days:") for p in found)


def test_reference_to_an_unknown_centre(tmp_path: Path) -> None:
    text = GOOD.replace('centre = "north"\nname = "Av.', 'centre = "east"\nname = "Av.')
    assert any("centre 'east' is not defined" in p for p in problems(tmp_path, text))


def test_duplicate_ids(tmp_path: Path) -> None:
    text = GOOD.replace('id = "cam-rail-chimbacalle"', 'id = "cam-plaza-grande"')
    assert any("duplicate id 'cam-plaza-grande'" in p for p in problems(tmp_path, text))


def test_not_toml_and_not_utf8_and_missing(tmp_path: Path) -> None:
    assert problems(tmp_path, "name = [unclosed")[0].startswith("not valid TOML")
    assert problems(tmp_path, b"name = '\xff\xfe'")[0].startswith("not UTF-8")
    with pytest.raises(SiteConfigError, match="file not found"):
        load_site(tmp_path / "absent.toml")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_loader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_site(path)
    except SiteConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)

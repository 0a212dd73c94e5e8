"""The `sereno` command as an administrator uses it (embedded SQLite in a temporary data directory)."""

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from sereno.cli import app
from sereno.sim.demo import bundled_site_path

runner = CliRunner()


def sereno(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_migrate_then_again(tmp_path: Path) -> None:
    code, out = sereno("migrate", "--data-dir", str(tmp_path))
    assert code == 0 and "schema at" in out and "was empty" in out
    code, out = sereno("migrate", "--data-dir", str(tmp_path))
    assert code == 0 and "up to date" in out


def test_first_admin_is_created_from_the_cli_with_a_generated_password(tmp_path: Path) -> None:
    code, out = sereno("admin", "create-user", "root", "--role", "admin", "--all-centres", "--data-dir", str(tmp_path))
    assert code == 0, out
    assert "password:" in out and len(out.split("password:")[1].split()[0]) >= 16
    code, out = sereno("admin", "create-user", "root", "--role", "admin", "--all-centres", "--data-dir", str(tmp_path))
    assert code == 2 and "already exists" in out


def test_create_user_refuses_bad_input(tmp_path: Path) -> None:
    code, out = sereno("admin", "create-user", "x", "--role", "admin", "--data-dir", str(tmp_path))
    assert code == 2 and "exactly one home centre" in out
    code, _out = sereno("admin", "create-user", "x", "--role", "emperor", "--all-centres", "--data-dir", str(tmp_path))
    assert code == 2


def test_audit_verify_exit_codes_and_first_bad_entry(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        assert (
            sereno("admin", "create-user", name, "--role", "auditor", "--all-centres", "--data-dir", str(tmp_path))[0]
            == 0
        )
    code, out = sereno("audit", "verify", "--data-dir", str(tmp_path))
    assert code == 0 and "audit log OK" in out
    with sqlite3.connect(tmp_path / "sereno.db") as conn:
        conn.execute("UPDATE audit_entries SET target = 'user:z' WHERE seq = 2")
    code, out = sereno("audit", "verify", "--json", "--data-dir", str(tmp_path))
    report = json.loads(out)
    assert code == 1 and report["first_bad_seq"] == 2 and not report["ok"]


def test_audit_verify_with_an_exported_public_key(tmp_path: Path) -> None:
    assert (
        sereno("admin", "create-user", "a", "--role", "auditor", "--all-centres", "--data-dir", str(tmp_path))[0] == 0
    )
    assert sereno("audit", "checkpoint", "--data-dir", str(tmp_path))[0] == 0
    code, pem = sereno("audit", "public-key", "--data-dir", str(tmp_path))
    key = tmp_path / "given.pem"
    key.write_text(pem)
    assert sereno("audit", "verify", "--public-key", str(key), "--data-dir", str(tmp_path))[0] == 0
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    code, out = sereno("audit", "verify", "--public-key", str(garbage), "--data-dir", str(tmp_path))
    assert code == 2 and "cannot read public key" in out


def test_config_check(tmp_path: Path) -> None:
    code, out = sereno("config", "check", str(bundled_site_path()))
    assert code == 0 and "3 centres, 3 cameras, 23 units" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(bundled_site_path().read_text().replace("retention_days = 14", "retention_days = -1"))
    code, out = sereno("config", "check", str(bad))
    assert code == 2
    assert f"{bad}: cameras[1] ('cam-av-10-agosto').retention_days:" in out.replace("\n", "")


def test_unknown_benchmark_lists_the_available_ones() -> None:
    code, out = sereno("bench", "nope")
    assert code == 2 and "audit" in out


def test_rotating_the_master_key_keeps_everything_readable_with_only_the_new_key(tmp_path: Path) -> None:
    from sereno.app import Runtime
    from sereno.config.cameras import CameraConfig
    from sereno.config.settings import Settings
    from sereno.config.site import load_site
    from sereno.core.audit.service import AuditQuery
    from sereno.core.auth.principal import cli_principal
    from tests.recording.helpers import add_camera, store_segment

    settings = Settings(data_dir=tmp_path)
    rt = Runtime.build(settings)
    admin = cli_principal("tester")
    rt.directory.sync_centres(load_site(bundled_site_path()), "test")
    add_camera(rt, admin, "cam-k")
    view = rt.cameras.get(admin, "cam-k")
    fields = ("id", "centre", "name", "lat", "lon", "main_url", "sub_url", "purpose", "retention_days")
    rt.cameras.replace(admin, "cam-k", CameraConfig.model_validate({k: getattr(view, k) for k in fields}), "pw-1")
    segment_id = store_segment(rt, "cam-k", 1_800_000_000_000_000)
    rt.close()
    old_keys = set(settings.keys_dir.glob("master-*.key"))
    code, out = sereno("admin", "rotate-master-key", "--data-dir", str(tmp_path))
    assert code == 0 and "1 segment keys re-wrapped, 1 passwords re-sealed" in out, out
    for path in old_keys:
        path.unlink()
    rt = Runtime.build(settings)
    try:
        assert rt.cameras.stream_credentials("cam-k").password == "pw-1"
        assert rt.recording.open_original(admin, segment_id, "Readable after the master key was rotated")
        assert rt.audit.search(AuditQuery(action="keys.rotate"))
    finally:
        rt.close()


def test_a_simulated_quarter_hour_prints_kpis_and_draws_them(tmp_path: Path) -> None:
    svg, table = tmp_path / "kpis.svg", tmp_path / "kpis.csv"
    code, out = sereno("sim", "day", "--hours", "0.25", "--start-hour", "19", "--svg", str(svg), "--csv", str(table))
    assert code == 0, out
    summary = json.loads(out[out.index("{") :])
    assert summary["stats"]["calls"] > 0 and "calls_by_outcome" in summary
    assert svg.read_text().startswith("<svg") and table.read_text().startswith("group,metric")

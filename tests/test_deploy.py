import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(tmp_path, *arguments: str, **env) -> subprocess.CompletedProcess:
    # A clean environment: only what the command itself should see.
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("KEHU_", "DJANGO_"))
    }
    environment |= {"KEHU_DATA_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    return _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _check_deploy(tmp_path, KEHU_HTTPS="1", KEHU_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_catches_a_plain_http_setup(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stdout + result.stderr


def test_a_bad_boolean_setting_is_reported_by_name(tmp_path):
    result = _check_deploy(tmp_path, KEHU_DEBUG="maybe")
    assert result.returncode != 0
    assert "KEHU_DEBUG must be a boolean" in result.stderr


def test_without_a_mail_server_email_is_written_to_the_data_directory(tmp_path):
    """A new installation has no SMTP server: sending must neither fail nor go anywhere."""
    result = _manage(tmp_path, "sendtestemail", "zhang@example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    (written,) = (tmp_path / "mail").iterdir()
    assert "To: zhang@example.com" in written.read_text()


def test_a_configured_mail_server_is_used(tmp_path):
    """Port 9 on this machine accepts nothing: the send fails, so it went to SMTP."""
    result = _manage(tmp_path, "sendtestemail", "zhang@example.com",
                     KEHU_EMAIL_HOST="127.0.0.1", KEHU_EMAIL_PORT="9")
    assert result.returncode != 0
    assert "ConnectionRefusedError" in result.stderr
    assert not (tmp_path / "mail").exists()

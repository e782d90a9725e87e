import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    # A clean environment: only what the deploy check itself should see.
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("KEHU_", "DJANGO_"))
    }
    environment |= {"KEHU_DATA_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )


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

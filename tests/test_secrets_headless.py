"""A server with no keyring at all (keyring's ``fail`` backend), end to end in real processes
(issue 11 item 6): ``dbox connect --paste`` keeps the rotating OAuth tokens in the secrets file the
user named (DBOX_SECRETS_FILE, 0600), ``dbox post`` from cron refreshes them there; a fixed token
in DBOX_X_TOKEN needs no file; with neither, connect refuses before the browser, exit 5."""

import json
import os
import stat
import subprocess
import sys

import pytest
import requests

from dbox.config import update_section
from dbox.testing.social_servers import SocialServer

NO_KEYRING = "keyring.backends.fail.Keyring"


def _env(**extra):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": NO_KEYRING, "PYTHONUNBUFFERED": "1"}
    env.pop("DBOX_SECRETS_FILE", None)
    env.update(extra)
    return env


def _dbox(*args, env, input=None):
    return subprocess.run([sys.executable, "-m", "dbox", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=60)


def _connect_by_paste(env) -> subprocess.CompletedProcess:
    """``dbox connect x --paste``: read the address it prints, 'open' it, paste back where it led."""
    proc = subprocess.Popen([sys.executable, "-m", "dbox", "connect", "x", "--paste"], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("http"):
                location = requests.get(line.strip(), allow_redirects=False, timeout=10).headers["Location"]
                proc.stdin.write(location + "\n")
                proc.stdin.flush()
                break
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines) + out, err)


@pytest.fixture
def xserver(store):
    with SocialServer("x") as server:
        update_section("social.x", server.settings())
        yield server


def test_connect_and_post_from_cron_with_the_secrets_file(store, tmp_path, xserver):
    secrets_file = tmp_path / "home" / ".dbox-secrets"
    env = _env(DBOX_SECRETS_FILE=str(secrets_file))
    connected = _connect_by_paste(env)
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert f"x: connected as candidate38" in connected.stdout
    assert f"Tokens are in the secrets file {secrets_file}." in connected.stdout
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    [(key, value)] = json.loads(secrets_file.read_text()).items()
    token = json.loads(value)
    assert key.startswith("social/x/") and token["refresh_token"]
    for path in (tmp_path / "store", tmp_path / "config"):      # never in the store nor the config
        for file in path.rglob("*"):
            if file.is_file():
                assert token["access_token"].encode() not in file.read_bytes(), file
    # the token has expired: the post refreshes it (X rotates the refresh token) and keeps it there
    token["expires_at"] = 1
    secrets_file.write_text(json.dumps({key: json.dumps(token)}))
    posted = _dbox("post", "Réunion jeudi", "--network", "x", "--yes", env=env)
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert "x: published" in posted.stdout and len(xserver.posts) == 1
    rotated = json.loads(json.loads(secrets_file.read_text())[key])
    assert rotated["refresh_token"] != token["refresh_token"] and rotated["expires_at"] > 1
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    # a file others can read is refused, naming the fix
    os.chmod(secrets_file, 0o640)
    refused = _dbox("post", "Encore", "--network", "x", "--yes", env=env)
    assert refused.returncode == 5
    assert f"has mode 640, readable by others: run chmod 600 {secrets_file}" in refused.stderr
    assert len(xserver.posts) == 1


def test_a_fixed_token_in_the_environment_needs_no_file(store, tmp_path, xserver):
    secrets_file = tmp_path / ".dbox-secrets"
    assert _connect_by_paste(_env(DBOX_SECRETS_FILE=str(secrets_file))).returncode == 0
    secrets_file.unlink()                          # cron has only the variable
    fixed = xserver.issue_token()["access_token"]
    posted = _dbox("post", "Réunion vendredi", "--network", "x", "--yes", env=_env(DBOX_X_TOKEN=fixed))
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert "x: published" in posted.stdout and len(xserver.posts) == 1
    assert not secrets_file.exists()


def test_connect_without_keyring_nor_file_refuses_before_the_browser(store, xserver):
    result = _dbox("connect", "x", "--paste", env=_env(), input="")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "Error: no usable system keyring" in result.stderr and "the tokens would have nowhere to go" in result.stderr
    assert "DBOX_SECRETS_FILE=" in result.stderr and "DBOX_X_TOKEN" in result.stderr
    assert "http" not in result.stdout                 # no address was handed out
    assert "Traceback" not in result.stderr

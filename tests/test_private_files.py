"""Every file dbox writes with personal data is 0600 whatever the umask, new or overwritten
(issue 12, item 7: `dbox send --dry-run -o FILE` was 0644)."""

import os
import stat

import pytest
from test_send_support import import_contacts, people, store, template_store, twilio  # noqa: F401

from dbox.files import atomic_private, open_private


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("existing", [False, True])
def test_send_dry_run_file_is_private(store, tmp_path, twilio, cli, loose_umask, existing):
    import_contacts(store, tmp_path, people(2))
    out = tmp_path / "dry.csv"
    if existing:
        out.write_text("old\n")
        os.chmod(out, 0o644)
    result = cli("send", "--sms", "-m", "Bonjour {{ first_name }}", "--dry-run", "-o", out)
    assert result.exit_code == 0, result.output
    assert "+33610000001" in out.read_text()                  # full numbers: personal data
    assert mode(out) == 0o600


def test_exports_and_lists_written_to_a_file_are_private(store, tmp_path, cli, loose_umask):
    import_contacts(store, tmp_path, people(2))
    targets = {
        "contacts list": (["contacts", "list", "--format", "csv", "-o"], tmp_path / "list.csv"),
        "segment export": (["segment", "--format", "csv", "-o"], tmp_path / "export.csv"),
    }
    for name, (args, path) in targets.items():
        path.write_text("")
        os.chmod(path, 0o644)
        result = cli(*args, path)
        assert result.exit_code == 0, (name, result.output)
        assert mode(path) == 0o600, name


def test_the_helpers(tmp_path, loose_umask):
    path = tmp_path / "a.txt"
    with open_private(path) as fh:
        fh.write("x")
    assert mode(path) == 0o600
    os.chmod(path, 0o666)
    with open_private(path, "a") as fh:
        fh.write("y")
    assert mode(path) == 0o600 and path.read_text() == "xy"
    with pytest.raises(RuntimeError):
        with atomic_private(path) as fh:
            fh.write("half")
            raise RuntimeError
    assert path.read_text() == "xy" and os.listdir(tmp_path) == ["a.txt"]
    with atomic_private(path) as fh:
        fh.write("whole")
    assert path.read_text() == "whole" and mode(path) == 0o600

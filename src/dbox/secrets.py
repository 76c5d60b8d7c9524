"""Secrets (provider tokens, SMTP passwords): the system keyring, or environment variables for cron.

An environment variable wins over the keyring (a crontab sets it; a headless server has no keyring).
A secret never goes to the store, the config file or a log, and dbox never falls back to a
plaintext file: when no keyring backend exists (``NoKeyringError``) or the only one stores secrets
in clear (keyrings.alt's PlaintextKeyring), dbox says so and names the environment variable.

A server without a keyring that must keep secrets dbox writes itself (OAuth tokens that rotate at
every refresh) can choose a file explicitly: ``DBOX_SECRETS_FILE=/path/to/file``. Then every secret
lives there (JSON), the file is created 0600 and refused, not used, when its mode is wider (or it is
not a regular file). dbox never picks a file by itself.
"""

from __future__ import annotations

import os

from dbox.errors import NotConfiguredError
from dbox.i18n import _
from dbox.config import active_profile

SERVICE = "dbox"
_PLAINTEXT_BACKENDS = ("PlaintextKeyring",)


FILE_ENV = "DBOX_SECRETS_FILE"


class _FileStore:
    """The secrets file the user named (``DBOX_SECRETS_FILE``): a JSON object, mode 0600."""

    def __init__(self, path: str):
        from pathlib import Path

        self.path = Path(path).expanduser()

    def problem(self) -> str | None:
        import stat

        if not self.path.exists():
            return None
        st = self.path.lstat()
        if not stat.S_ISREG(st.st_mode):
            return f"{self.path} ({FILE_ENV}) is not a regular file"
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            return f"{self.path} ({FILE_ENV}) has mode {mode:o}, readable by others: run chmod 600 {self.path}"
        return None

    def _check(self) -> None:
        problem = self.problem()
        if problem:
            raise NotConfiguredError(_("secrets file refused: {problem}").format(problem=problem))

    def read(self) -> dict:
        import json

        self._check()
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            raise NotConfiguredError(_("secrets file {path} ({FILE_ENV}) is not valid JSON").format(
                                         path=self.path, FILE_ENV=FILE_ENV)) from None

    def get_password(self, _service: str, name: str) -> str | None:
        return self.read().get(name)

    def set_password(self, _service: str, name: str, value: str | None) -> None:
        import json

        data = self.read()
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, json.dumps(data, indent=1, sort_keys=True).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def delete_password(self, service: str, name: str) -> None:
        self.set_password(service, name, None)


def _file_store() -> _FileStore | None:
    path = os.environ.get(FILE_ENV)
    return _FileStore(path) if path else None


def _keyring():
    store = _file_store()
    if store is not None:          # the user's explicit choice wins over any keyring
        store._check()
        return store
    import keyring

    backend = keyring.get_keyring()
    if type(backend).__name__ in _PLAINTEXT_BACKENDS:
        raise _no_keyring(_("the keyring backend {name} stores secrets in a plaintext file").format(
            name=f"{type(backend).__module__}.{type(backend).__name__}"))
    return keyring


def _no_keyring(why: str, env: str | None = None) -> NotConfiguredError:
    """Our message around the keyring's reason (the library speaks English: its words stay inside)."""
    where = (_("set {env} in the environment").format(env=env) if env
             else _("set the DBOX_* environment variables"))
    error = NotConfiguredError(_("no usable system keyring: {why}").format(why=why),
                               hint=_("{where} (for cron: in the crontab or a file only you can read)").format(
                                        where=where))
    error.why = why
    return error


def keyring_name(name: str) -> str:
    """The keyring entry of secret ``name``: under the active profile (``dbox --profile``) it is
    the profile's own (``profile:NAME:sms.auth_token``), so no client's secret serves another.
    Environment variables are not namespaced: a cron line sets them for one profile's run."""
    profile = active_profile()
    return f"profile:{profile}:{name}" if profile else name


def get_secret(name: str, env: str | None = None) -> str | None:
    """The secret from ``env`` (when set and non-empty), else from the keyring, else None.
    A keyring that cannot be used counts as 'not there' here; ``require_secret`` explains."""
    if env and os.environ.get(env):
        return os.environ[env]
    store = _file_store()
    if store is not None:     # the user's explicit choice: a file refused (mode, JSON) is an error, not "unset"
        return store.get_password(SERVICE, keyring_name(name))
    try:
        return _keyring().get_password(SERVICE, keyring_name(name))
    except NotConfiguredError:
        return None
    except Exception as exc:  # keyring.errors.KeyringError and backend failures
        if type(exc).__name__ in ("NoKeyringError", "KeyringLocked", "InitError", "KeyringError"):
            return None
        raise


def secret_source(name: str, env: str | None = None) -> str | None:
    """Where the secret would come from: 'env', 'keyring' or None."""
    if env and os.environ.get(env):
        return "env"
    return "keyring" if get_secret(name, None) else None


def require_secret(name: str, env: str | None, what: str, setup_command: str) -> str:
    value = get_secret(name, env)
    if value:
        return value
    reason = keyring_problem()
    if reason:
        raise _no_keyring(_("{reason}; {what} not found").format(reason=reason, what=what), env)
    hint = (_("run: {command} (or set {env})").format(command=setup_command, env=env) if env
            else _("run: {command}").format(command=setup_command))
    raise NotConfiguredError(_("{what} is not set").format(what=what), hint=hint)


def keyring_problem() -> str | None:
    """Why the keyring cannot be used, or None when it can."""
    try:
        kr = _keyring()
    except NotConfiguredError as exc:
        return getattr(exc, "why", str(exc))
    if isinstance(kr, _FileStore):
        return None
    from keyring.backends import fail

    if isinstance(kr.get_keyring(), fail.Keyring):
        return _("no keyring backend is available on this machine (headless server?)")
    return None


def set_secret(name: str, value: str, env: str | None = None) -> None:
    """Store a secret in the keyring; refuse (never write a file) when there is none."""
    problem = keyring_problem()
    if problem:
        raise _no_keyring(problem, env)
    backend = _keyring()
    name = keyring_name(name)
    if isinstance(backend, _FileStore):
        backend.set_password(SERVICE, name, value)
        return
    import keyring.errors

    try:
        backend.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise _no_keyring(_("the keyring refused the secret ({error})").format(
            error=f"{type(exc).__name__}: {exc}"), env) from None


def delete_secret(name: str) -> bool:
    name = keyring_name(name)
    store = _file_store()
    if store is not None:
        existed = store.get_password(SERVICE, name) is not None
        store.delete_password(SERVICE, name)
        return existed
    import keyring.errors

    try:
        _keyring().delete_password(SERVICE, name)
        return True
    except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError, NotConfiguredError):
        return False


def where() -> str:
    """Where ``set_secret`` writes: for messages (``Tokens are in ...``)."""
    store = _file_store()
    return _("the secrets file {path}").format(path=store.path) if store is not None else _("the system keyring")


def require_writable(env: str | None = None) -> None:
    """Before a secret is obtained that only dbox can write (an OAuth token that rotates): refuse
    at once when there is nowhere to keep it, naming the two ways out."""
    problem = keyring_problem()
    if problem:
        raise NotConfiguredError(
            _("no usable system keyring ({problem}): the tokens would have nowhere to go").format(problem=problem),
            hint=_("name a secrets file dbox creates 0600: export {variable}=~/.dbox-secrets (and in the crontab)").format(
                variable=FILE_ENV)
                 + (_("; or, for a token that never changes, set {env}").format(env=env) if env else ""))


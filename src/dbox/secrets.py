"""Secrets (provider tokens, SMTP passwords): the system keyring, or environment variables for cron.

An environment variable wins over the keyring (a crontab sets it; a headless server has no keyring).
A secret never goes to the store, the config file or a log, and dbox never falls back to a
plaintext file: when no keyring backend exists (``NoKeyringError``) or the only one stores secrets
in clear (keyrings.alt's PlaintextKeyring), dbox says so and names the environment variable.
"""

from __future__ import annotations

import os

from dbox.errors import NotConfiguredError

SERVICE = "dbox"
_PLAINTEXT_BACKENDS = ("PlaintextKeyring",)


def _keyring():
    import keyring

    backend = keyring.get_keyring()
    if type(backend).__name__ in _PLAINTEXT_BACKENDS:
        raise _no_keyring(f"the keyring backend {type(backend).__module__}.{type(backend).__name__} stores "
                          f"secrets in a plaintext file")
    return keyring


def _no_keyring(why: str, env: str | None = None) -> NotConfiguredError:
    where = f"set {env} in the environment" if env else "set the DBOX_* environment variables"
    return NotConfiguredError(f"no usable system keyring: {why}",
                              hint=f"{where} (for cron: in the crontab or a file only you can read)")


def get_secret(name: str, env: str | None = None) -> str | None:
    """The secret from ``env`` (when set and non-empty), else from the keyring, else None.
    A keyring that cannot be used counts as 'not there' here; ``require_secret`` explains."""
    if env and os.environ.get(env):
        return os.environ[env]
    try:
        return _keyring().get_password(SERVICE, name)
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
        raise _no_keyring(f"{reason}; {what} not found", env)
    raise NotConfiguredError(f"{what} is not set", hint=f"run: {setup_command}" + (f" (or set {env})" if env else ""))


def keyring_problem() -> str | None:
    """Why the keyring cannot be used, or None when it can."""
    try:
        kr = _keyring()
    except NotConfiguredError as exc:
        return str(exc).removeprefix("no usable system keyring: ")
    from keyring.backends import fail

    if isinstance(kr.get_keyring(), fail.Keyring):
        return "no keyring backend is available on this machine (headless server?)"
    return None


def set_secret(name: str, value: str, env: str | None = None) -> None:
    """Store a secret in the keyring; refuse (never write a file) when there is none."""
    problem = keyring_problem()
    if problem:
        raise _no_keyring(problem, env)
    import keyring.errors

    try:
        _keyring().set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as exc:
        raise _no_keyring(f"{type(exc).__name__}: {exc}", env) from None


def delete_secret(name: str) -> bool:
    import keyring.errors

    try:
        _keyring().delete_password(SERVICE, name)
        return True
    except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError, NotConfiguredError):
        return False

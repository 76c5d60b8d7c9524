"""A keyring backend for tests and rehearsals: secrets in a JSON file named by
``DBOX_TEST_KEYRING_FILE`` (shared by subprocesses), never the user's real keyring.

Select it with ``PYTHON_KEYRING_BACKEND=dbox.testing.keyring_backend.FileKeyring``. It stores
secrets in clear: for tests only, which is why dbox never picks it by itself.
"""

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1

    @property
    def _path(self) -> Path:
        return Path(os.environ.get("DBOX_TEST_KEYRING_FILE", "dbox-test-keyring.json"))

    def _load(self) -> dict:
        try:
            return json.loads(self._path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, data: dict) -> None:
        self._path.write_text(json.dumps(data))

    def get_password(self, service, username):
        return self._load().get(f"{service}\x00{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}\x00{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}\x00{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)

"""Where dbox keeps its files: the store, the config file."""

import os
import sys
from pathlib import Path

APP_NAME = "dbox"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_store_path():
    """``DBOX_DB`` if set (a file, or a ``postgresql://`` URL kept as text), else ``dbox.sqlite3``
    in the user data dir."""
    env = os.environ.get("DBOX_DB")
    if env:
        if env.startswith(("postgresql://", "postgres://")):
            return env
        return Path(env).expanduser()
    return default_data_dir() / "dbox.sqlite3"


def config_dir() -> Path:
    """``DBOX_CONFIG_DIR`` if set (tests, several campaigns on one box), else the user config dir."""
    env = os.environ.get("DBOX_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform.startswith("linux"):
        # What platformdirs answers on Linux, without importing it: dbox reads the config (its
        # language) before any help is shown, and `dbox --help` loads nothing it can spare.
        xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
        return Path(xdg or os.path.expanduser("~/.config")) / APP_NAME
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"

"""What a non-editable install ships: every file under src/dbox that is not Python source must be
named by pyproject's package-data, or a wheel installs a dbox without it (a PostgreSQL migration, the
French catalog, the geography table) while the editable installs the tests use never notice."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dbox"


def test_every_data_file_is_in_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["dbox"]
    shipped = {p for pattern in patterns for p in PACKAGE.glob(pattern) if p.is_file()}
    data = {p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and p.suffix not in (".py", ".pyc")}
    assert len(data) > 20, sorted(data)
    missing = sorted(str(p.relative_to(PACKAGE)) for p in data - shipped)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"

"""The build backend of the `meeshkan` package (PEP 517, PEP 660), with the standard library only.

`pip install ./clients/python` builds in an isolated environment into which it installs the backend's
requirements from an index: with setuptools as the backend that needs PyPI, so an offline machine could only
install with `--no-build-isolation`. This backend needs nothing: the package is pure Python, so its wheel is
its files, its metadata from pyproject.toml's [project] table, and a RECORD of their hashes.
"""

import base64
import hashlib
import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = "py3-none-any"


def _toml(path):
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            raise RuntimeError(
                "building meeshkan needs Python 3.11+ (tomllib) or the tomli package; "
                "or install it with `pip install --no-build-isolation` where setuptools is installed"
            ) from None
    with open(path, "rb") as f:
        return tomllib.load(f)


def _config():
    data = _toml(ROOT / "pyproject.toml")
    return data["project"], data["tool"]["meeshkan-build"]["packages"]


def _metadata(project):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
    ]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    if "license" in project and "text" in project["license"]:
        lines.append(f"License: {project['license']['text']}")
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in requirements]
    readme = project.get("readme")
    text = (ROOT / readme).read_text(encoding="utf-8") if readme else ""
    if readme:
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + text


def _package_files(packages):
    """Each package's .py files (not its subfolders: those are listed as packages of their own)."""
    for package in packages:
        folder = ROOT.joinpath(*package.split("."))
        for path in sorted(folder.glob("*.py")):
            yield path, "/".join(package.split(".") + [path.name])


def _dist_name(project):
    return f"{project['name'].replace('-', '_')}-{project['version']}"


def _write_wheel(wheel_directory, files):
    """files: (archive name, bytes) pairs; dist-info's WHEEL and RECORD are added. Returns the wheel's file name."""
    project, _ = _config()
    dist = _dist_name(project)
    info = f"{dist}.dist-info"
    files = list(files) + [
        (f"{info}/METADATA", _metadata(project).encode("utf-8")),
        (f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: meeshkan_build\nRoot-Is-Purelib: true\nTag: {TAG}\n".encode()),
    ]
    record = io.StringIO()
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    files.append((f"{info}/RECORD", record.getvalue().encode()))
    name = f"{dist}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for archive_name, data in files:
            entry = zipfile.ZipInfo(archive_name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _, packages = _config()
    return _write_wheel(wheel_directory, [(name, path.read_bytes()) for path, name in _package_files(packages)])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """`pip install -e`: a .pth file puts this folder on sys.path, so edits to the package are seen at once."""
    project, _ = _config()
    return _write_wheel(wheel_directory, [(f"{project['name']}_editable.pth", (str(ROOT) + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    project, packages = _config()
    dist = _dist_name(project)
    name = f"{dist}.tar.gz"
    members = [(ROOT / "pyproject.toml", "pyproject.toml"), (Path(__file__), f"build_backend/{Path(__file__).name}")]
    if project.get("readme"):
        members.append((ROOT / project["readme"], project["readme"]))
    members += list(_package_files(packages))
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for path, archive_name in members:
            sdist.add(path, f"{dist}/{archive_name}")
        pkg_info = _metadata(project).encode("utf-8")
        entry = tarfile.TarInfo(f"{dist}/PKG-INFO")
        entry.size, entry.mtime, entry.mode = len(pkg_info), int(time.time()), 0o644
        sdist.addfile(entry, io.BytesIO(pkg_info))
    return name

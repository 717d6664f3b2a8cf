"""Deterministic Lambda deployment packages for the functions in services/.

Each zip holds the function's package, the shared packages (the `fraud_scoring` core and the
pipeline functions' `pipeline_clients`) and the third-party packages pinned in
`lambda_requirements.txt` (installed once for arm64 / Python 3.11 into a cache under `.build/`,
keyed by the requirements' hash). The same sources give the same bytes: entries
are sorted, timestamps and permissions fixed, bytecode left out, so Terraform sees a changed
`source_code_hash` only when code or dependencies changed.

Named lambda_packaging, not packaging: pytest puts services/ on sys.path, where a packaging.py
would shadow the PyPI `packaging` library that pytest itself imports.

Use from the repository root:  `from services.lambda_packaging import LAMBDA_FUNCTIONS, build_lambda_zip`
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

SERVICES_DIR = Path(__file__).resolve().parent
REQUIREMENTS_FILE = SERVICES_DIR / "lambda_requirements.txt"
DEPENDENCY_CACHE_DIR = SERVICES_DIR.parent / ".build" / "lambda-dependencies"

LAMBDA_RUNTIME = "python3.11"
LAMBDA_ARCHITECTURE = "arm64"
# Function name (its package in services/) -> handler string for the Lambda resource.
LAMBDA_FUNCTIONS: Mapping[str, str] = MappingProxyType(
    {
        "transaction_processor": "transaction_processor.handler.handler",
        "pattern_analyzer": "pattern_analyzer.handler.handler",
        "secret_rotation": "secret_rotation.handler.handler",
    }
)
SHARED_PACKAGES = ("fraud_scoring", "pipeline_clients")

PIP_TARGET_PLATFORM = (
    "--platform", "manylinux2014_aarch64",
    "--implementation", "cp",
    "--python-version", "3.11",
    "--only-binary=:all:",
)  # fmt: skip

_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can express
_FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda needs files world-readable
_EXCLUDED_DIRS = frozenset({"__pycache__"})
_EXCLUDED_DEPENDENCY_TOP_LEVEL = frozenset({"bin"})  # console scripts pip puts beside the packages
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")

PipRunner = Callable[[Sequence[str]], None]


class PackagingError(RuntimeError):
    pass


def build_lambda_zip(
    function: str,
    out_dir: Path,
    *,
    dependencies_dir: Path | None = None,
    source_dir: Path = SERVICES_DIR,
) -> Path:
    """Build `<out_dir>/<function>.zip` and return its path.

    `dependencies_dir` is an installed `--target` tree to vendor; by default the pinned
    requirements are installed (once, then cached). `source_dir` is where the function's and
    the shared packages live (services/ unless a test builds from a copy).
    """
    if function not in LAMBDA_FUNCTIONS:
        raise PackagingError(f"unknown Lambda function {function!r}; known: {', '.join(sorted(LAMBDA_FUNCTIONS))}")
    dependencies = install_dependencies() if dependencies_dir is None else Path(dependencies_dir)

    entries: dict[str, Path] = {}
    for package in (function, *SHARED_PACKAGES):
        root = Path(source_dir) / package
        if not (root / "__init__.py").is_file():
            raise PackagingError(f"{root} is not a Python package")
        _add_entries(entries, root, base=Path(source_dir), origin="services")
    _add_entries(entries, dependencies, base=dependencies, origin="dependencies", skip=_EXCLUDED_DEPENDENCY_TOP_LEVEL)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    destination = out_dir / f"{function}.zip"
    partial = out_dir / f".{function}.zip.partial"
    _write_zip(partial, entries)
    os.replace(partial, destination)
    return destination


def install_dependencies(
    requirements: Path = REQUIREMENTS_FILE,
    cache_dir: Path = DEPENDENCY_CACHE_DIR,
    run_pip: PipRunner | None = None,
) -> Path:
    """Install the requirements for the Lambda platform into a cache directory and return it.

    The directory is named after a hash of the requirements and the target platform, so it is
    reused until either changes. It only ever appears complete (installed aside, then renamed).
    """
    content = Path(requirements).read_bytes()
    key = hashlib.sha256(content + "\0".join(PIP_TARGET_PLATFORM).encode()).hexdigest()[:20]
    target = Path(cache_dir) / key
    if target.is_dir():
        return target

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(cache_dir) / f".{key}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install",
        "--target", str(staging),
        *PIP_TARGET_PLATFORM,
        "--require-hashes",
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
        "-r", str(requirements),
    ]  # fmt: skip
    (run_pip or _run_pip)(command)
    try:
        os.replace(staging, target)
    except OSError:
        if not target.is_dir():  # not just a concurrent build that finished first
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return target


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _run_pip(command: Sequence[str]) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise PackagingError(f"installing the Lambda dependencies failed:\n{completed.stderr.strip()}")


def _add_entries(
    entries: dict[str, Path], root: Path, *, base: Path, origin: str, skip: frozenset[str] = frozenset()
) -> None:
    for path in _files_under(root):
        name = path.relative_to(base).as_posix()
        if name.split("/", 1)[0] in skip:
            continue
        if name in entries:
            raise PackagingError(f"{name} comes from both the {origin} and an earlier source; rename one")
        entries[name] = path


def _files_under(root: Path) -> Iterator[Path]:
    # followlinks: a dependencies tree may be assembled from links (the tests do).
    for directory, subdirs, files in os.walk(root, followlinks=True):
        subdirs[:] = [d for d in subdirs if d not in _EXCLUDED_DIRS]
        for name in files:
            if not name.endswith(_EXCLUDED_SUFFIXES):
                yield Path(directory) / name


def _write_zip(destination: Path, entries: Mapping[str, Path]) -> None:
    with zipfile.ZipFile(destination, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE_TIME)
            info.create_system = 3  # Unix, so external_attr carries the mode on every build host
            info.external_attr = _FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name].read_bytes(), compresslevel=6)

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from services.lambda_packaging import (
    LAMBDA_FUNCTIONS,
    PIP_TARGET_PLATFORM,
    SERVICES_DIR,
    SHARED_PACKAGES,
    PackagingError,
    build_lambda_zip,
    install_dependencies,
    sha256_of,
)

# The vendored packages (lambda_requirements.txt) as installed in this venv: same code, host
# platform, no network. The real arm64 install is exercised by test_real_dependencies_* (opt-in).
VENDORED_TOP_LEVEL = ("aws_lambda_powertools", "jmespath", "typing_extensions")
# What the Lambda Python runtime provides itself.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six")


def _installed_location(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def _linked_tree(root: Path, names: Sequence[str]) -> Path:
    root.mkdir()
    for name in names:
        location = _installed_location(name)
        (root / location.name).symlink_to(location)
    return root


@pytest.fixture(scope="module")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _linked_tree(tmp_path_factory.mktemp("deps") / "target", VENDORED_TOP_LEVEL)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _linked_tree(tmp_path_factory.mktemp("runtime") / "site", RUNTIME_PROVIDED)


@pytest.fixture(scope="module")
def processor_zip(tmp_path_factory: pytest.TempPathFactory, dependencies: Path) -> Path:
    return build_lambda_zip("transaction_processor", tmp_path_factory.mktemp("dist"), dependencies_dir=dependencies)


def test_two_builds_are_byte_for_byte_identical(processor_zip: Path, dependencies: Path, tmp_path: Path) -> None:
    again = build_lambda_zip("transaction_processor", tmp_path, dependencies_dir=dependencies)
    assert sha256_of(again) == sha256_of(processor_zip)


def test_a_code_change_changes_the_package(dependencies: Path, tmp_path: Path) -> None:
    sources = tmp_path / "services"
    for package in ("secret_rotation", *SHARED_PACKAGES):
        shutil.copytree(SERVICES_DIR / package, sources / package, ignore=shutil.ignore_patterns("__pycache__"))
    before = sha256_of(
        build_lambda_zip("secret_rotation", tmp_path / "a", dependencies_dir=dependencies, source_dir=sources)
    )
    with (sources / "fraud_scoring" / "rules.py").open("a") as rules:
        rules.write("\n# changed\n")
    after = sha256_of(
        build_lambda_zip("secret_rotation", tmp_path / "b", dependencies_dir=dependencies, source_dir=sources)
    )
    assert before != after


def test_entries_are_sorted_dated_1980_with_fixed_modes_and_no_bytecode(processor_zip: Path) -> None:
    with zipfile.ZipFile(processor_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]
    assert "transaction_processor/handler.py" in names
    assert "fraud_scoring/transaction.schema.json" in names
    assert "fraud_scoring/scoring.defaults.json" in names  # ScoringConfig.default() reads it at import
    assert "aws_lambda_powertools/__init__.py" in names
    assert not [
        name for name in names if name.startswith(("pattern_analyzer/", "secret_rotation/", "fraud_api/", "tests/"))
    ]


@pytest.mark.parametrize("function", sorted(LAMBDA_FUNCTIONS))
def test_the_handler_imports_from_the_unzipped_package_alone(
    function: str, dependencies: Path, runtime: Path, tmp_path: Path
) -> None:
    package = build_lambda_zip(function, tmp_path / "dist", dependencies_dir=dependencies)
    task_root = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task_root)
    module, attribute = LAMBDA_FUNCTIONS[function].rsplit(".", 1)
    # -I -S: no site-packages, no PYTHONPATH; only the task root and what the runtime provides.
    check = (
        "import sys, importlib;"
        f"sys.path[:0] = [{str(task_root)!r}, {str(runtime)!r}];"
        f"module = importlib.import_module({module!r});"
        f"assert callable(getattr(module, {attribute!r}));"
        "import fraud_scoring, aws_lambda_powertools;"
        f"assert fraud_scoring.__file__.startswith({str(task_root)!r});"
        f"assert aws_lambda_powertools.__file__.startswith({str(task_root)!r})"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", check], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr


def test_every_listed_handler_exists() -> None:
    for function, handler in LAMBDA_FUNCTIONS.items():
        module, _ = handler.rsplit(".", 1)
        assert module.split(".")[0] == function
        assert (SERVICES_DIR / (module.replace(".", "/") + ".py")).is_file()


def test_an_unknown_function_is_refused(tmp_path: Path, dependencies: Path) -> None:
    with pytest.raises(PackagingError, match="unknown Lambda function 'fraud_api'"):
        build_lambda_zip("fraud_api", tmp_path, dependencies_dir=dependencies)


def test_a_dependency_may_not_shadow_our_code(tmp_path: Path) -> None:
    rogue = tmp_path / "deps"
    (rogue / "fraud_scoring").mkdir(parents=True)
    (rogue / "fraud_scoring" / "__init__.py").write_text("")
    with pytest.raises(PackagingError, match="fraud_scoring/__init__.py comes from both"):
        build_lambda_zip("secret_rotation", tmp_path / "dist", dependencies_dir=rogue)


class RecordingPip:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))
        target = Path(command[command.index("--target") + 1])
        (target / "vendored").mkdir(parents=True)
        (target / "vendored" / "__init__.py").write_text("")


def test_dependencies_are_installed_once_for_the_lambda_platform_and_reused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("example==1.0 --hash=sha256:00\n")
    pip = RecordingPip()

    first = install_dependencies(requirements, tmp_path / "cache", run_pip=pip)
    second = install_dependencies(requirements, tmp_path / "cache", run_pip=pip)

    assert first == second and (first / "vendored" / "__init__.py").is_file()
    [command] = pip.commands
    joined = " ".join(command)
    assert " ".join(PIP_TARGET_PLATFORM) in joined
    assert "--require-hashes" in command and "--no-compile" in command
    assert list(tmp_path.joinpath("cache").iterdir()) == [first], "no partial install left behind"


def test_changed_requirements_get_a_new_cache_entry(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("example==1.0\n")
    pip = RecordingPip()
    first = install_dependencies(requirements, tmp_path / "cache", run_pip=pip)
    requirements.write_text("example==1.1\n")
    assert install_dependencies(requirements, tmp_path / "cache", run_pip=pip) != first
    assert len(pip.commands) == 2


@pytest.mark.skipif(
    not os.environ.get("FRAUD_PACKAGING_NETWORK_TESTS"),
    reason="installs from PyPI; set FRAUD_PACKAGING_NETWORK_TESTS=1",
)
def test_real_dependencies_install_and_import(runtime: Path, tmp_path: Path) -> None:
    package = build_lambda_zip("transaction_processor", tmp_path / "dist")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "task")
    task_root = tmp_path / "task"
    check = f"import sys; sys.path[:0] = [{str(task_root)!r}, {str(runtime)!r}]; import transaction_processor.handler"
    environment = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1"}
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", check], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr

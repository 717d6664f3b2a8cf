"""The project's own Terraform CLI configuration.

Terraform installs the AWS provider from a local filesystem mirror when the machine has one
(offline CI), and from the public registry otherwise. The mirror is named by
FRAUD_TERRAFORM_PROVIDER_MIRROR or discovered on the machine; nothing machine-specific is kept in
the repository. A shared plugin cache stops every stack directory from copying the ~700 MB
provider binary.

    python -m scripts.terraform_cli      # writes the file and prints its path
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.paths import CACHE_ROOT, REPO_ROOT

CACHE_DIR = CACHE_ROOT / "terraform"
CLI_CONFIG_FILE = CACHE_DIR / "terraformrc"
PLUGIN_CACHE_DIR = CACHE_DIR / "plugin-cache"
INIT_LOCK_FILE = CACHE_DIR / "init.lock"
MIRROR_ENV = "FRAUD_TERRAFORM_PROVIDER_MIRROR"
REGISTRY_DIR_NAME = "registry.terraform.io"
PROVIDER_GOGC = "400"


def discover_mirror(env: dict[str, str] | None = None) -> Path | None:
    """The directory that holds `registry.terraform.io/...`, or None on a connected machine."""
    env = dict(os.environ) if env is None else env
    if env.get(MIRROR_ENV):
        mirror = Path(env[MIRROR_ENV])
        if not (mirror / REGISTRY_DIR_NAME).is_dir():
            raise SystemExit(f"{MIRROR_ENV}={mirror} has no {REGISTRY_DIR_NAME} directory; point it at a Terraform filesystem mirror")
        return mirror
    # A bounded search of the filesystem, the same one an engineer would type. Only a directory that
    # holds an executable AWS provider counts: an empty plugin cache or a test's stand-in does not.
    found = subprocess.run(
        ["find", "/", "-maxdepth", "6", "-type", "d", "-name", REGISTRY_DIR_NAME,
         "-not", "-path", "*/.terraform/*", "-not", "-path", "/proc/*", "-not", "-path", f"{REPO_ROOT}/*"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    return next((Path(candidate).parent for candidate in sorted(found) if holds_aws_provider(Path(candidate))), None)


def holds_aws_provider(registry_dir: Path) -> bool:
    """Whether `<registry_dir>/hashicorp/aws/<version>/<os_arch>/` holds an executable provider (a mirror's unpacked layout)."""
    return any(os.access(binary, os.X_OK) for binary in registry_dir.glob("hashicorp/aws/*/*/terraform-provider-aws*"))


# The first line of the file: a config written by an older version of render_cli_config is rewritten.
CLI_CONFIG_VERSION = "# written by scripts/terraform_cli.py, version 2"


def render_cli_config(mirror: Path | None, plugin_cache: Path) -> str:
    lines = [
        CLI_CONFIG_VERSION,
        f'plugin_cache_dir = "{plugin_cache}"',
        # Without it, an init whose lock file has no checksum yet (every fresh synth directory)
        # installs the provider into the cache again, deleting and re-creating the cache entry; a
        # validate, plan or apply of another directory that reads its link in between finds "no
        # package ... cached" (docs/performance.md, "a race on the shared provider cache"). With it,
        # that init links the entry already there, and the lock file gets the same checksum.
        "plugin_cache_may_break_dependency_lock_file = true",
        "disable_checkpoint = true",
        "",
    ]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            '    include = ["registry.terraform.io/*/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/*/*"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def ensure_cli_config(env: dict[str, str] | None = None) -> Path:
    """Write the CLI config (once per checkout, and again when render_cli_config has changed) and return its path."""
    if not CLI_CONFIG_FILE.exists() or not CLI_CONFIG_FILE.read_text().startswith(CLI_CONFIG_VERSION + "\n"):
        PLUGIN_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        CLI_CONFIG_FILE.write_text(render_cli_config(discover_mirror(env), PLUGIN_CACHE_DIR))
    return CLI_CONFIG_FILE


@contextmanager
def init_lock() -> Iterator[None]:
    """Held around every `terraform init` of this checkout, by every process (the lifecycle, the
    tests' validation, the e2e's lifecycle running beside them). Terraform documents the plugin
    cache as unsafe for concurrent inits: two at once filling it fail ("failed to create directory
    ... file exists"). Commands that read the cache need no lock: once filled, an init only links
    to it (plugin_cache_may_break_dependency_lock_file above)."""
    INIT_LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with INIT_LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def terraform_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A process environment in which `terraform` uses the project's CLI config."""
    env = dict(os.environ if base is None else base)
    env["TF_CLI_CONFIG_FILE"] = str(ensure_cli_config(env))
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_IN_AUTOMATION"] = "1"
    # The AWS provider allocates heavily while it starts, three or four times per command; a lazier
    # garbage collector saves a third of that CPU (docs/performance.md). A GOGC already set wins.
    env.setdefault("GOGC", PROVIDER_GOGC)
    return env


if __name__ == "__main__":
    print(ensure_cli_config())
    sys.exit(0)

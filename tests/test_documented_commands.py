"""Every `cdktf` command the README and docs/lifecycle.md print is accepted as typed.

Each is run by the real cdktf CLI against this session's synthesized stacks, with a stand-in
`terraform` on PATH that records what cdktf asks of it: the test proves cdktf parses the command,
selects exactly the stacks it names (its dependency rules included) and hands each to Terraform,
without deploying anything. Synthesis itself is skipped (`--skip-synth`): app.py is tested
elsewhere, and each command then takes about two seconds.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from scripts.paths import REPO_ROOT

DOCUMENTS = ("README.md", "docs/lifecycle.md")
CDKTF = REPO_ROOT / "node_modules" / ".bin" / "cdktf"
FAKE_TERRAFORM = """#!/bin/sh
echo "$(basename "$PWD") $*" >> "{log}"
case "$1" in
  version) echo '{{"terraform_version":"1.11.0","platform":"linux_amd64","provider_selections":{{}},"terraform_outdated":false}}';;
  output) echo '{{}}';;
esac
exit 0
"""


def documented_commands() -> list[tuple[str, str]]:
    """(document, command line) for every cdktf deploy/destroy line in the documents' shell blocks."""
    found = []
    for document in DOCUMENTS:
        in_block = False
        for line in (REPO_ROOT / document).read_text().splitlines():
            if line.startswith("```"):
                in_block = line.strip() == "```bash"
                continue
            command = line.split(" #", 1)[0].strip()
            if in_block and re.search(r"\bcdktf (deploy|destroy)\b", command):
                found.append((document, command))
    return found


def test_the_documents_show_single_layer_commands():
    commands = [command for _, command in documented_commands()]
    assert any("--ignore-missing-stack-dependencies" in command and " deploy " in f" {command} " for command in commands)
    assert any("--ignore-missing-stack-dependencies" in command and " destroy " in f" {command} " for command in commands)


@pytest.mark.parametrize("document, command", documented_commands(), ids=lambda value: value if "cdktf" in value else None)
def test_cdktf_accepts_the_command_and_runs_exactly_its_stacks(synthesis, tmp_path, document, command):
    log = tmp_path / "terraform-calls.log"
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text(FAKE_TERRAFORM.format(log=log))
    fake.chmod(0o755)

    words = shlex.split(command)
    env = {**os.environ, "PATH": f"{fake.parent}:{CDKTF.parent}:{os.environ['PATH']}", "CHECKPOINT_DISABLE": "1"}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert Path(words[0]).name == "cdktf", command
    action, arguments = words[1], words[2:]
    if "--output" in arguments:
        del arguments[arguments.index("--output") : arguments.index("--output") + 2]
    stacks = [word for word in arguments if not word.startswith("-")]
    arguments += ["--output", str(synthesis.outdir), "--auto-approve"] + ([] if "--skip-synth" in arguments else ["--skip-synth"])

    result = subprocess.run([str(CDKTF), action, *arguments], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{document}: `{command}` fails:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
    ran = [line.split()[0] for line in log.read_text().splitlines() if line.split()[1:2] == ["apply" if action == "deploy" else "destroy"]]
    assert sorted(ran) == sorted(stacks), f"{document}: `{command}` ran {ran}"

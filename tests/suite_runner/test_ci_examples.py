"""The vendor guide's CI examples parse, have the structure their CI expects, and every sandkasse
command in them exists with the options used; the example sandkasse.toml is a valid config."""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from sandbox.cli import build_parser
from sandbox.commands.verify import build_command

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "ci-examples"
SHELL_BREAKS = {">", ">>", "&", "|", "&&", ";", "2>&1"}


def sandkasse_commands(lines: list[str]) -> list[list[str]]:
    commands = []
    for block in lines:
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("sandkasse "):
                tokens = shlex.split(line)
                cut = next((i for i, t in enumerate(tokens) if t in SHELL_BREAKS), len(tokens))
                commands.append(tokens[1:cut])
    return commands


def check_commands(commands: list[list[str]]) -> None:
    assert {c[0] for c in commands} >= {"serve", "cohort", "verify"}
    parser = build_parser()
    for args in commands:
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"`sandkasse {' '.join(args)}` is not a valid sandkasse command line")


def test_github_actions_example() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    assert workflow["name"] and (workflow.get("on") or workflow.get(True))   # YAML 1.1 reads `on` as True
    steps = workflow["jobs"]["verify"]["steps"]
    assert workflow["jobs"]["verify"]["runs-on"]
    assert all(("run" in s) != ("uses" in s) for s in steps), "each step either runs a command or uses an action"
    check_commands(sandkasse_commands([s["run"] for s in steps if "run" in s]))
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()"


def test_gitlab_ci_example() -> None:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    job = pipeline["sandkasse"]
    assert job["stage"] in pipeline["stages"]
    assert job["artifacts"]["reports"]["junit"].endswith("junit.xml")
    check_commands(sandkasse_commands(job["before_script"] + job["script"]))


def test_example_config_is_a_valid_verify_config(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "sandkasse.toml", tmp_path / "sandkasse.toml")
    (tmp_path / "cohort").mkdir()
    command = build_command(tmp_path / "sandkasse.toml")
    assert "--role=server" in command and "--evidence" in command and command[-2:] == ["-n", "2"]
    assert f"--cohort={tmp_path / 'cohort'}" in command

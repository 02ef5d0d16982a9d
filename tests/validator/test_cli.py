"""`sandkasse validate`: resources, Bundles and NDJSON; text, JSON and OperationOutcome output;
exit 1 on errors, 0 when valid, 2 on usage errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.cli import main

GOOD = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-01-01"}
BAD = {"resourceType": "Patient", "id": "p2", "gender": "kvinne", "active": "yes"}


def _write(folder: Path, name: str, content) -> Path:
    path = folder / name
    if isinstance(content, list):
        path.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_a_valid_resource_exits_0(tmp_path, capsys):
    assert main(["validate", str(_write(tmp_path, "good.json", GOOD))]) == 0
    out = capsys.readouterr().out
    assert "1 resource(s) checked: 0 error(s); valid" in out


def test_an_invalid_resource_exits_1_and_says_where_and_how_to_fix(tmp_path, capsys):
    assert main(["validate", str(_write(tmp_path, "bad.json", BAD))]) == 1
    out = capsys.readouterr().out
    assert "Patient.gender [binding]" in out and "fix: Use a code from" in out
    assert "Patient.active [json-type]" in out


def test_json_format_gives_one_object_per_resource_of_an_ndjson_file(tmp_path, capsys):
    path = _write(tmp_path, "many.ndjson", [GOOD, BAD, GOOD])
    assert main(["validate", "--format", "json", str(path)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["valid"] for line in lines] == [True, False, True]
    assert lines[1]["source"].endswith("many.ndjson:2")
    rules = {i["rule"] for i in lines[1]["issues"]}
    assert {"binding", "json-type"} <= rules
    assert all(i["fix"] for i in lines[1]["issues"])


def test_outcome_format_is_one_operation_outcome(tmp_path, capsys):
    assert main(["validate", "--format", "outcome", str(_write(tmp_path, "bad.json", BAD))]) == 1
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["resourceType"] == "OperationOutcome"
    gender = next(i for i in outcome["issue"] if i.get("expression") == ["Patient.gender"])
    assert gender["severity"] == "error" and gender["diagnostics"].startswith("Fix: ")


def test_a_bundle_is_validated_with_its_entries(tmp_path, capsys):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:6f1c2a8e-51d4-4a57-9a0c-5a1d0c0f2e11", "resource": BAD,
         "request": {"method": "PUT", "url": "Patient/p2"}}]}
    assert main(["validate", "--format", "json", str(_write(tmp_path, "b.json", bundle))]) == 1
    issues = json.loads(capsys.readouterr().out)["issues"]
    assert any(i["expression"] == "Bundle.entry[0].resource.gender" for i in issues)


def test_broken_json_is_an_error_not_a_crash(tmp_path, capsys):
    path = tmp_path / "broken.ndjson"
    path.write_text(json.dumps(GOOD) + "\n{not json\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert "[json-syntax]" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["validate", "does-not-exist.json"], ["validate", "--format", "xml", "x.json"]])
def test_usage_errors_exit_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2


def test_the_installed_command_sets_the_process_exit_code(tmp_path):
    bad = _write(tmp_path, "bad.json", BAD)
    result = subprocess.run([sys.executable, "-m", "sandbox.cli", "validate", str(bad)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and "INVALID" in result.stdout

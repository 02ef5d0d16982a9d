"""`sandkasse cohort`: writes a cohort, shows progress on long runs, rejects bad options with exit 2."""
import json
from pathlib import Path

import pytest

from sandbox.cli import main


def test_cohort_command_writes_a_cohort_with_personas(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cohort"
    code = main(["cohort", "--size", "12", "--seed", "9", "--kommune", "5001", "--persona", "yamal",
                 "--persona", "petter", "--prevalence", "kols=0.5", "--age-distribution", "eldre", "--out", str(out)])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kommunenummer"] == "5001" and manifest["size"] == 12
    assert set(manifest["personas"]) == {"yamal", "petter"}
    assert manifest["spec"]["prevalence"] == {"kols": 0.5}
    assert len((out / "bundles.ndjson").read_text(encoding="utf-8").splitlines()) == 13
    assert "12 patients" in capsys.readouterr().out


def test_progress_bar_on_stderr_for_long_runs(tmp_path: Path, capsys) -> None:
    assert main(["cohort", "--size", "1000", "--format", "ndjson", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "1000/1000 patients" in err and "[" in err


@pytest.mark.parametrize("argv,message", [
    (["--kommune", "9999"], "not a kommunenummer"),
    (["--kommune", "3024"], "replaced by 3201"),
    (["--size", "-1"], "size"),
    (["--persona", "nobody"], "unknown persona"),
    (["--prevalence", "kols"], "CONDITION=RATE"),
    (["--prevalence", "kols=2"], "between 0 and 1"),
    (["--prevalence", "influensa=0.1"], "unknown condition"),
    (["--age-distribution", "gamle"], "age distribution"),
    (["--size", "2", "--persona", "all"], "do not fit"),
])
def test_bad_options_exit_2_with_a_clear_message(tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    assert main(["cohort", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sandkasse cohort: ") and message in err
    assert not (tmp_path / "x").exists()

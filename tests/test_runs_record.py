"""The run folder's owner: file names in one module, a versioned record, older records."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.errors import GandirError
from gan_directions.runs import layout
from gan_directions.runs.record import (
    RUN_RECORD_VERSION,
    new_record,
    read_record,
    update_record,
    write_record,
)

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"spec": "synthetic-shapes", "path": None, "sha256": None}
FIND_FIELDS = {"method": "random", "space": "z", "layers": None, "k": 2, "seed": 0,
               "truncation_psi": 1.0, "scales": [1.0, 1.0]}
# A find record as gandir 0.1 wrote it before the versioned schema.
LEGACY_FIND = {"gandir_version": "0.1.0", "created": "2026-11-25T17:00:00+00:00",
               "model": "synthetic-shapes", "model_sha256": None, "settings": {"steps": 5},
               "versions": {}, "loss_history": [{"step": 1, "loss": 0.5}], "recovery": None,
               **FIND_FIELDS}
LEGACY_VAE = {"gandir_version": "0.1.0", "created": "2026-11-25T17:00:00Z", "step": 6,
              "train_config": {"model": "betavae", "beta": 4.0}, "model_config": {"latent": 10},
              "final_losses": {"loss": 1.0}, "versions": {}}


def test_round_trip_and_stages(tmp_path):
    record = new_record("find", SHAPES, {"steps": 5}, **FIND_FIELDS)
    assert record["record_version"] == RUN_RECORD_VERSION and record["stages"] == {}
    assert write_record(tmp_path, record) == tmp_path / layout.RUN_RECORD
    assert read_record(tmp_path) == record
    update_record(tmp_path, "score", {"score": 1.5})
    assert read_record(tmp_path)["stages"] == {"score": {"score": 1.5}}


@pytest.mark.parametrize("change, message", [
    ({"kind": "train"}, "unknown run kind"),
    ({"k": "2"}, "'k' has the wrong type"),
    ({"model": {"spec": "x"}}, "'model' must be"),
    ({"loss_history": [{"loss": 1.0}]}, "'step'"),
    ({"record_version": RUN_RECORD_VERSION + 1}, "upgrade gandir"),
])
def test_invalid_records_are_refused(tmp_path, change, message):
    record = new_record("find", SHAPES, {}, **FIND_FIELDS)
    (tmp_path / layout.RUN_RECORD).write_text(json.dumps({**record, **change}))
    with pytest.raises(GandirError, match=re.escape(message)):
        read_record(tmp_path)
    with pytest.raises(GandirError, match=re.escape(message)):
        write_record(tmp_path, {**record, **change})


def test_older_records_are_upgraded_on_read(tmp_path):
    (tmp_path / layout.RUN_RECORD).write_text(json.dumps(LEGACY_FIND))
    record = read_record(tmp_path)
    assert record["kind"] == "find" and record["record_version"] == RUN_RECORD_VERSION
    assert record["model"] == {"spec": "synthetic-shapes", "path": None, "sha256": None}
    assert record["loss_history"] == [{"step": 1, "loss": 0.5}]
    update_record(tmp_path, "render", {"out": "traversals"})  # written back in the new schema
    assert json.loads((tmp_path / layout.RUN_RECORD).read_text())["record_version"] == 1
    (tmp_path / layout.RUN_RECORD).write_text(json.dumps(LEGACY_VAE))
    vae = read_record(tmp_path)
    assert vae["kind"] == "vae-train" and vae["settings"]["beta"] == 4.0 and vae["step"] == 6


def test_unknown_or_missing_records_give_one_line_errors(tmp_path):
    with pytest.raises(GandirError, match="does not exist"):
        read_record(tmp_path)
    assert read_record(tmp_path, required=False) is None
    (tmp_path / layout.RUN_RECORD).write_text(json.dumps({"model": "synthetic-shapes"}))
    with pytest.raises(GandirError, match="not a run record.*--overwrite"):
        read_record(tmp_path)
    (tmp_path / layout.RUN_RECORD).write_text("{not json")
    with pytest.raises(GandirError, match="cannot read run record"):
        read_record(tmp_path)


def test_file_names_are_spelled_only_in_the_layout_module():
    """Every module reads and writes run folders through ``runs`` (the report included)."""
    names = [value for key, value in vars(layout).items()
             if key.isupper() and isinstance(value, str) and "." in value]
    pattern = re.compile("|".join(re.escape(f'"{name}"') for name in names))
    offenders = []
    for folder in ("gan_directions", "cli", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "gan_directions" / "runs" / "layout.py":
                continue
            offenders += [f"{path.relative_to(ROOT)}:{number}" for number, line
                          in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_report_reads_through_the_runs_package():
    source = (ROOT / "gan_directions" / "render" / "report.py").read_text()
    assert "json.loads" not in source and "DirectionSet.load" not in source
    assert "from gan_directions.runs.folder import" in source


@pytest.mark.parametrize("command", ["find", "render", "score", "generate"])
def test_options_are_spelled_alike(command):
    page = CliRunner().invoke(cli, [command, "--help"]).output
    assert "--truncation-psi" in page and "--trunc " not in page and "--trunc," not in page
    assert re.search(r"--device TEXT.*\[default:\s+auto\]", page, re.S)

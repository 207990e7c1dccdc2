"""The benchmark's table (benchmarks/full_series.py) and the throughput rows it reads; nothing is run here."""

from __future__ import annotations

import csv
import importlib.util
import threading
from pathlib import Path

import pytest

from tlcourse import throughput

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("full_series", REPO / "benchmarks" / "full_series.py")
full_series = importlib.util.module_from_spec(spec)
spec.loader.exec_module(full_series)

MACHINE = {"cpu": "Test CPU", "logical_cores": 2, "physical_cores": 1, "memory_gib": 7.8, "os": "Linux",
           "versions": "Python 3.11", "load_before": "1.00 0.50 0.20", "load_after": "2.00 1.00 0.50",
           "busy_at_start": "ninguno", "sgemm_gflops": 166.0, "date": "2026-11-29T10:00:00+00:00",
           "data": "symbolic links"}
ROWS = [
    {"notebook": "01_entrenar_mnist.ipynb", "status": "ok", "seconds": 66.0, "peak_rss_gib": 1.55,
     "images_per_second": "", "extraction_vs_floor": None},
    {"notebook": "04_resnet50_congelada.ipynb", "status": "ok", "seconds": 350.0, "peak_rss_gib": 2.68,
     "images_per_second": "resnet50_extraction_32px: 808", "extraction_vs_floor": 1.31},
    {"notebook": "05_x.ipynb", "status": "error (rc=1)", "seconds": 12.5, "peak_rss_gib": None,
     "images_per_second": "", "extraction_vs_floor": None},
]


def test_markdown_table_has_every_notebook_the_total_and_the_machine():
    text = full_series.markdown_table(ROWS, MACHINE, "full")
    lines = text.splitlines()
    assert "| 04_resnet50_congelada.ipynb | ok | 350.0 | 2.68 | resnet50_extraction_32px: 808 | 1.31 |" in lines
    assert "| 05_x.ipynb | error (rc=1) | 12.5 | — | — | — |" in lines
    assert "**428.5 s (7.1 min)**" in text and "**max 2.68**" in text
    assert "Test CPU" in text and "166.0 GFLOP/s" in text
    assert "before: 1.00 0.50 0.20; after: 2.00 1.00 0.50" in text


def test_write_table_writes_markdown_and_csv(tmp_path):
    md_path, csv_path = full_series.write_table(ROWS, MACHINE, "quick", tmp_path, "20261129-100000")
    assert md_path.name == "full_series-quick-20261129-100000.md" and md_path.exists()
    with open(csv_path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert [r["notebook"] for r in table] == [r["notebook"] for r in ROWS]
    assert table[1]["seconds"] == "350.0" and table[1]["extraction_vs_floor"] == "1.31"
    assert table[0]["cpu"] == "Test CPU" and table[0]["mode"] == "quick"
    assert (tmp_path / "latest-quick.md").read_text(encoding="utf-8") == md_path.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.part"))


def test_throughput_columns_floor_ratio():
    rows = [{"name": "resnet50_end_to_end_epoch", "images": 9400, "seconds": 10.0, "images_per_second": 940.0},
            {"name": "resnet50_extraction_32px", "images": 131600, "seconds": 163.0, "images_per_second": 807.4}]
    columns = full_series.throughput_columns(rows, sgemm=166.0)
    # floor = 131600 × 0.157 GFLOP / 166 GFLOP/s = 124.5 s; 163 / 124.5 = 1.31
    assert columns["extraction_vs_floor"] == pytest.approx(1.31, abs=0.01)
    assert columns["images_per_second"] == "resnet50_end_to_end_epoch: 940; resnet50_extraction_32px: 807"
    assert full_series.throughput_columns([], 166.0) == {"images_per_second": "", "extraction_vs_floor": None}


def test_select_by_prefix():
    paths = [Path(f"{n}_x.ipynb") for n in ("01", "02", "03")]
    assert full_series.select(paths, "01,03") == [paths[0], paths[2]]
    assert full_series.select(paths, None) == paths
    with pytest.raises(SystemExit):
        full_series.select(paths, "09")


def _record(path, n):
    for i in range(n):
        throughput.record_throughput("pass", images=100 + i, seconds=1.0, path=path)


def test_record_and_read_throughput(tmp_path):
    path = tmp_path / "throughput.csv"
    assert throughput.read_throughput(path) == []
    row = throughput.record_throughput("resnet50_extraction_32px", images=1000, seconds=2.0, path=path)
    assert row["images_per_second"] == 500.0
    rows = throughput.read_throughput(path)
    assert len(rows) == 1 and rows[0]["images"] == 1000 and rows[0]["seconds"] == 2.0
    with pytest.raises(ValueError):
        throughput.record_throughput("x", images=0, seconds=1.0, path=path)


def test_two_writers_lose_no_row(tmp_path):
    path = tmp_path / "throughput.csv"
    # Two threads contend for the same lock file exactly as two kernels would (O_EXCL is per file, not per process).
    writers = [threading.Thread(target=_record, args=(path, 20)) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    rows = throughput.read_throughput(path)
    assert len(rows) == 40 and sorted(r["images"] for r in rows) == sorted(list(range(100, 120)) * 2)
    assert path.read_text().count("name,images") == 1


def test_fresh_copy_has_empty_tmp_and_linked_data(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "notebooks" / "tlcourse").mkdir(parents=True)
    (repo / "notebooks" / "01_a.ipynb").write_text("{}")
    (repo / "notebooks" / "tlcourse" / "__init__.py").write_text("")
    (repo / "data" / "mnist").mkdir(parents=True)
    (repo / "data" / "mnist" / "f.gz").write_bytes(b"x")
    (repo / "tmp").mkdir()
    (repo / "tmp" / "results.csv").write_text("old")
    monkeypatch.setattr(full_series, "REPO", repo)
    said = full_series.fresh_copy(tmp_path / "copy")
    copy = tmp_path / "copy"
    assert (copy / "notebooks" / "01_a.ipynb").exists() and (copy / "notebooks" / "tlcourse").is_dir()
    assert list((copy / "tmp").iterdir()) == []
    assert (copy / "data" / "mnist" / "f.gz").read_bytes() == b"x"
    assert said.startswith("symbolic links") and (copy / "data" / "mnist").is_symlink()
    assert full_series.fresh_copy(tmp_path / "copy2", copy_data=True).startswith("copied")
    assert not (tmp_path / "copy2" / "data" / "mnist").is_symlink()

"""Benchmark of the notebook series: run time, kernel memory and ResNet50 throughput, one table.

Usage, from the repository folder with the virtual environment active::

    python benchmarks/full_series.py                 # full mode, every notebook (takes about 15 minutes)
    python benchmarks/full_series.py --quick         # quick mode (TL_QUICK=1), as CI runs it
    python benchmarks/full_series.py --only 01,02    # only these notebooks (by number prefix)
    python benchmarks/full_series.py --copy-data     # copy data/ instead of linking it (see below)

What it does:

1. Records the machine: CPU model, cores, memory, load average (before and after the run), the
   processes that were using the CPU at the start, the versions, and the single-precision matrix
   product speed of this CPU measured with numpy (``sgemm`` GFLOP/s, best of several 2048×2048
   products), from which the FLOP floor of the ResNet50 passes follows.
2. Makes a fresh copy of the repository's ``notebooks/`` (helper package included) in a temporary
   folder, with an **empty** ``tmp/`` (no models, features or results from earlier runs) and a
   ``data/`` seeded from the repository's ``data/`` cache: by default each entry of ``data/`` is a
   **symbolic link** to the repository's (nothing is copied; a notebook that writes into an
   existing cache folder writes into the repository's cache); with ``--copy-data`` it is a copy
   (also where links cannot be made, as on Windows without that right; the table says which).
   ``~/.keras/models`` (the ImageNet weights) is used as it is.
3. Runs each notebook top to bottom in its own fresh kernel (``jupyter nbconvert --execute``,
   without ``--allow-errors``), in full mode unless ``--quick``; a notebook that fails is
   recorded as failed and the next one runs.
4. Samples the kernel process's resident memory (RSS) every ``--interval`` seconds and keeps the
   peak; on Linux it also reads the peak the kernel itself reached (``VmHWM`` in
   ``/proc/<pid>/status``), so a short spike between two samples is not missed.
5. Reads the rows each notebook added to the copy's ``tmp/throughput.csv``
   (``tlcourse.record_throughput``): images per second of each ResNet50 pass, and for the feature
   extraction its time over the FLOP floor (0.157 GFLOP per image at 32×32 divided by the
   measured sgemm speed; 1.0 would be a pass as fast as this CPU multiplies matrices).
6. Writes one table, Markdown and CSV, to ``tmp/benchmark/`` of the repository
   (``full_series-<mode>-<date>.md`` and ``.csv``, plus ``latest-<mode>.md``/``.csv``), and prints
   the Markdown.

It is a benchmark, not a test: it measures and records, it asserts no time. Other work on the
machine slows it down; the load average before and after and the busy processes say so.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GFLOP_PER_IMAGE_32PX = 0.157          # one ResNet50 forward pass at 32×32 without its head (issue 15)
EXTRACTION = re.compile(r"extract|features|caracter", re.I)
COLUMNS = ["notebook", "status", "seconds", "peak_rss_gib", "images_per_second", "extraction_vs_floor"]


# ---------------------------------------------------------------- machine

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/d"


def busy_processes(top: int = 5) -> str:
    """The processes using the most CPU over one second (besides this one), as 'name pid cpu%'."""
    import psutil
    procs = []
    for p in psutil.process_iter(["name", "pid"]):
        try:
            p.cpu_percent(None)
            procs.append(p)
        except psutil.Error:
            pass
    time.sleep(1.0)
    usage = []
    for p in procs:
        try:
            if p.pid != os.getpid():
                command = " ".join(" ".join(p.cmdline()).split())                  # one line
                command = command.replace("`", "'").replace("|", "/")[:70] or p.info["name"]
                usage.append((p.cpu_percent(None), command, p.pid))
        except psutil.Error:
            pass
    usage = [u for u in sorted(usage, reverse=True)[:top] if u[0] >= 5]
    return "; ".join(f"{cpu:.0f} % pid {pid} `{command}`" for cpu, command, pid in usage) or "none above 5 %"


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Single-precision matrix product speed of this CPU with numpy (best of ``repeats``)."""
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b                                                     # warm-up (thread pool, caches)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version
    found = []
    for package in ("tensorflow-cpu", "tensorflow", "keras", "numpy"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    return f"Python {platform.python_version()}, " + ", ".join(found)


def machine_info() -> dict:
    import psutil
    return {"cpu": cpu_model(), "logical_cores": psutil.cpu_count(logical=True),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gib": round(psutil.virtual_memory().total / 2 ** 30, 1),
            "os": platform.platform(), "versions": versions(),
            "load_before": load_average(), "busy_at_start": busy_processes(),
            "sgemm_gflops": round(sgemm_gflops(), 1)}


# ---------------------------------------------------------------- fresh copy

def fresh_copy(dest: Path, copy_data: bool = False) -> str:
    """Copy notebooks/ to ``dest`` with an empty tmp/ and data/ seeded from the repository's cache.

    Returns how data/ was seeded. Where symbolic links cannot be made (Windows without the
    right to create them) the entries are copied instead, and the answer says so.
    """
    shutil.copytree(REPO / "notebooks", dest / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (dest / "tmp").mkdir()
    (dest / "data").mkdir()
    source = REPO / "data"
    for entry in sorted(source.iterdir()) if source.is_dir() else []:
        target = dest / "data" / entry.name
        if not copy_data:
            try:
                target.symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
                continue
            except OSError:
                copy_data = True
        (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, target)
    return ("copied from the repository's data/" if copy_data
            else "symbolic links to the repository's data/ entries")


# ---------------------------------------------------------------- one notebook

def _kernel_of(process):
    import psutil
    try:
        for child in process.children(recursive=True):
            try:
                if any("ipykernel" in part for part in child.cmdline()):
                    return child
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return None


def _high_water_mark(pid: int) -> int:
    """The kernel's own peak RSS as Linux keeps it (``VmHWM``), in bytes; 0 elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_notebook(path: Path, out_dir: Path, env: dict, interval: float, timeout: int) -> dict:
    """Execute ``path`` in a fresh kernel; return status, seconds and the kernel's peak RSS."""
    import psutil
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
               f"--ExecutePreprocessor.timeout={timeout}", "--output-dir", str(out_dir), str(path)]
    peak = 0
    start = time.perf_counter()
    with open(out_dir / f"{path.stem}.log", "w") as log:
        proc = subprocess.Popen(command, cwd=path.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
        watcher = psutil.Process(proc.pid)
        while proc.poll() is None:
            kernel = _kernel_of(watcher)
            if kernel is not None:
                try:
                    peak = max(peak, kernel.memory_info().rss, _high_water_mark(kernel.pid))
                except psutil.Error:
                    pass
            time.sleep(interval)
    seconds = time.perf_counter() - start
    return {"notebook": path.name, "status": "ok" if proc.returncode == 0 else f"error (rc={proc.returncode})",
            "seconds": round(seconds, 1), "peak_rss_gib": round(peak / 2 ** 30, 2) if peak else None}


def throughput_columns(rows: list[dict], sgemm: float) -> dict:
    """images/s of each pass, and the extraction's seconds over its FLOP floor."""
    if not rows:
        return {"images_per_second": "", "extraction_vs_floor": None}
    speeds = "; ".join(f"{r['name']}: {float(r['images_per_second']):.0f}" for r in rows)
    extraction = [r for r in rows if EXTRACTION.search(r["name"])]
    ratio = None
    if extraction and sgemm > 0:
        biggest = max(extraction, key=lambda r: int(r["images"]))
        floor = int(biggest["images"]) * GFLOP_PER_IMAGE_32PX / sgemm
        ratio = round(float(biggest["seconds"]) / floor, 2)
    return {"images_per_second": speeds, "extraction_vs_floor": ratio}


# ---------------------------------------------------------------- table

def _fmt(value) -> str:
    return "—" if value is None or value == "" else str(value)


def markdown_table(rows: list[dict], machine: dict, mode: str) -> str:
    """The results as Markdown: a header with the machine, then one line per notebook and the total."""
    ok = [r for r in rows if r.get("seconds") is not None]
    total = sum(float(r["seconds"]) for r in ok)
    peaks = [float(r["peak_rss_gib"]) for r in rows if r.get("peak_rss_gib") not in (None, "")]
    lines = [f"# Benchmark of the series ({mode} mode)", "",
             f"- date: {machine.get('date', '')}",
             f"- CPU: {machine.get('cpu')}, {machine.get('physical_cores')} physical / "
             f"{machine.get('logical_cores')} logical cores, {machine.get('memory_gib')} GiB RAM",
             f"- {machine.get('os')}; {machine.get('versions')}",
             f"- numpy sgemm: {machine.get('sgemm_gflops')} GFLOP/s (FLOP floor of ResNet50 at 32×32: "
             f"{GFLOP_PER_IMAGE_32PX} GFLOP per image)",
             f"- load average (1, 5, 15 min) before: {machine.get('load_before')}; after: {machine.get('load_after')}",
             f"- busy processes at the start: {machine.get('busy_at_start')}",
             f"- data/: {machine.get('data')}", "",
             "| notebook | status | seconds | peak RSS (GiB) | ResNet50 images/s | extraction / FLOP floor |",
             "|---|---|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['notebook']} | {r['status']} | {_fmt(r.get('seconds'))} | {_fmt(r.get('peak_rss_gib'))} "
                     f"| {_fmt(r.get('images_per_second'))} | {_fmt(r.get('extraction_vs_floor'))} |")
    lines.append(f"| **total** | | **{total:.1f} s ({total / 60:.1f} min)** | "
                 f"**max {max(peaks):.2f}** | | |" if peaks else f"| **total** | | **{total:.1f} s** | | | |")
    return "\n".join(lines) + "\n"


def write_table(rows: list[dict], machine: dict, mode: str, out_dir: Path, stamp: str) -> tuple[Path, Path]:
    """Write the Markdown and the CSV (each to a temporary name, then renamed); return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / f"full_series-{mode}-{stamp}.md"
    csv_path = md_path.with_suffix(".csv")
    tmp = md_path.with_suffix(".md.part")
    tmp.write_text(markdown_table(rows, machine, mode), encoding="utf-8")
    tmp.replace(md_path)
    tmp = csv_path.with_suffix(".csv.part")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + ["mode"] + sorted(machine), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({**{k: r.get(k) for k in COLUMNS}, "mode": mode, **machine})
    tmp.replace(csv_path)
    for path in (md_path, csv_path):
        shutil.copyfile(path, out_dir / f"latest-{mode}{path.suffix}")
    return md_path, csv_path


# ---------------------------------------------------------------- main

def select(notebooks: list[Path], only: str | None) -> list[Path]:
    if not only:
        return notebooks
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    chosen = [p for p in notebooks if any(p.name.startswith(w) for w in wanted)]
    if not chosen:
        raise SystemExit(f"--only {only}: ningún notebook empieza así ({', '.join(p.name for p in notebooks)})")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (TL_QUICK=1) instead of full mode")
    parser.add_argument("--only", help="comma-separated notebook prefixes, e.g. 01,02")
    parser.add_argument("--copy-data", action="store_true", help="copy data/ instead of symbolic links")
    parser.add_argument("--out", type=Path, default=REPO / "tmp" / "benchmark", help="where the table goes")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between memory samples")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "notebooks"))
    from tlcourse.throughput import read_throughput

    mode = "quick" if args.quick else "full"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    print("Measuring the machine (sgemm, load, busy processes)…", flush=True)
    machine = machine_info()
    machine["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    work = Path(tempfile.mkdtemp(prefix="tl-benchmark-"))
    rows = []
    try:
        copy = work / "repo"
        machine["data"] = fresh_copy(copy, copy_data=args.copy_data)
        executed = work / "executed"
        executed.mkdir()
        env = {**os.environ, "TL_QUICK": "1" if args.quick else "0"}
        env.pop("TL_DATA_DIR", None)                          # the copy's own data/
        throughput_csv = copy / "tmp" / "throughput.csv"
        for path in select(sorted((copy / "notebooks").glob("[0-9][0-9]_*.ipynb")), args.only):
            before = len(read_throughput(throughput_csv))
            print(f"{path.name}…", end=" ", flush=True)
            row = run_notebook(path, executed, env, args.interval, args.timeout)
            row.update(throughput_columns(read_throughput(throughput_csv)[before:], machine["sgemm_gflops"]))
            rows.append(row)
            print(f"{row['status']}, {row['seconds']} s, peak RSS {row['peak_rss_gib']} GiB", flush=True)
    finally:
        machine["load_after"] = load_average()
        if rows:
            md_path, csv_path = write_table(rows, machine, mode, args.out, stamp)
            print()
            print(md_path.read_text(encoding="utf-8"))
            print(f"Written: {md_path} and {csv_path}")
        if args.keep:
            print(f"Temporary copy kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if rows and all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The shared results table tmp/results.csv (tlcourse.results).

conftest.py points ``tlcourse.config.REPO_DIR`` at ``tmp_path/repo``, so the table these tests
write is ``tmp_path/repo/tmp/results.csv``, never the repository's own ``tmp/``.
"""

import csv
import math

import pytest

from tlcourse import get_config, read_results, record_result
from tlcourse.results import COLUMNS

EXPECTED_COLUMNS = ["notebook", "approach", "data", "weights", "n_train", "epochs", "trainable_params",
                    "train_seconds", "seconds_per_epoch", "test_accuracy"]


def a_result(**changes):
    """The arguments of a plausible record_result call, with some of them changed."""
    arguments = dict(notebook="03", approach="feature_extraction", data="synthetic", weights="imagenet",
                     n_train=9_400, epochs=4, trainable_params=1_234, train_seconds=20.0, test_accuracy=0.875)
    arguments.update(changes)
    return arguments


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_table_is_written_under_tmp(tmp_path):
    """The table goes to <REPO_DIR>/tmp/results.csv with exactly the documented columns."""
    record_result(**a_result())
    path = get_config().tmp_dir / "results.csv"
    assert path == tmp_path / "repo" / "tmp" / "results.csv"
    rows = csv_rows(path)
    assert rows[0] == EXPECTED_COLUMNS == COLUMNS
    assert len(rows) == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.csv"]   # no temporary file left


def test_values_are_stored():
    """What is recorded is what is read back (the notebook stays the string '03')."""
    table = record_result(**a_result())
    row = read_results().iloc[0]
    assert row["notebook"] == "03" and row["approach"] == "feature_extraction"
    assert row["data"] == "synthetic" and row["weights"] == "imagenet"
    assert row["epochs"] == 4 and row["trainable_params"] == 1_234
    assert row["test_accuracy"] == pytest.approx(0.875)
    assert len(table) == 1


def test_same_notebook_and_approach_replaces_the_row():
    """Re-running a notebook replaces its row instead of adding a duplicate."""
    record_result(**a_result(test_accuracy=0.5))
    table = record_result(**a_result(test_accuracy=0.9))
    assert len(table) == 1
    assert len(read_results()) == 1
    assert read_results().iloc[0]["test_accuracy"] == pytest.approx(0.9)


def test_different_approaches_add_rows():
    """Another approach, or the same approach in another notebook, is a new row."""
    record_result(**a_result(approach="feature_extraction"))
    record_result(**a_result(approach="fine_tuning"))
    record_result(**a_result(notebook="04", approach="fine_tuning"))
    table = read_results()
    assert len(table) == 3
    assert sorted(zip(table["notebook"], table["approach"])) == [
        ("03", "feature_extraction"), ("03", "fine_tuning"), ("04", "fine_tuning")]


def test_rows_are_sorted_by_notebook():
    """Rows come out ordered by notebook, whatever the order the notebooks ran in."""
    record_result(**a_result(notebook="05"))
    record_result(**a_result(notebook="03"))
    record_result(**a_result(notebook="04"))
    assert read_results()["notebook"].tolist() == ["03", "04", "05"]


def test_seconds_per_epoch_defaults_to_train_seconds_over_epochs():
    """Without seconds_per_epoch it is train_seconds / epochs; given, it is kept."""
    record_result(**a_result(approach="a", train_seconds=30.0, epochs=4))
    record_result(**a_result(approach="b", train_seconds=30.0, epochs=4, seconds_per_epoch=5.0))
    table = read_results().set_index("approach")
    assert table.loc["a", "seconds_per_epoch"] == pytest.approx(7.5)
    assert table.loc["b", "seconds_per_epoch"] == pytest.approx(5.0)


@pytest.mark.parametrize("change, word", [
    (dict(data="mnist"), "data"),
    (dict(weights="pesos-raros"), "weights"),
    (dict(test_accuracy=1.5), "test_accuracy"),
    (dict(test_accuracy=-0.1), "test_accuracy"),
    (dict(test_accuracy=math.nan), "test_accuracy"),
    (dict(n_train=0), "n_train"),
], ids=["data", "weights", "accuracy>1", "accuracy<0", "accuracy-nan", "n_train-0"])
def test_invalid_values_raise(change, word):
    """Invalid data / weights / accuracy raise ValueError naming the field, and write nothing."""
    with pytest.raises(ValueError, match=word):
        record_result(**a_result(**change))
    assert not (get_config().tmp_dir / "results.csv").exists()


def test_empty_table_has_the_columns():
    """Before any notebook writes a result, read_results is an empty table with the columns."""
    table = read_results()
    assert table.empty
    assert list(table.columns) == EXPECTED_COLUMNS


def test_concurrent_writers_lose_no_rows():
    """Several writers at once (threads here; two kernels in real life): every row survives."""
    import threading

    def write(worker):
        for i in range(8):
            record_result(**a_result(notebook="05", approach=f"w{worker}_{i}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    table = read_results()
    assert len(table) == 32 and table["approach"].is_unique
    assert not (get_config().tmp_dir / "results.csv.lock").exists()


def test_lock_held_by_another_process_times_out_with_advice():
    from tlcourse.results import _results_lock
    lock = get_config().tmp_dir / "results.csv.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("12345")
    with pytest.raises(TimeoutError) as error:
        with _results_lock(timeout=0.2):
            pass
    assert "results.csv.lock" in str(error.value) and "borra ese fichero" in str(error.value)
    assert lock.exists()          # someone else's lock is not removed


def test_stale_lock_is_taken_over():
    import os
    lock = get_config().tmp_dir / "results.csv.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("12345")
    old = lock.stat().st_mtime - 3600
    os.utime(lock, (old, old))    # left by a process killed an hour ago
    record_result(**a_result())
    assert len(read_results()) == 1 and not lock.exists()


def test_n_train_is_required():
    """Every row says how many training images it used: leaving n_train out is an error."""
    arguments = a_result()
    del arguments["n_train"]
    with pytest.raises(TypeError, match="n_train"):
        record_result(**arguments)


def test_old_table_without_n_train_is_read_with_the_column(tmp_path):
    """A results.csv written before n_train existed still reads, with the column empty."""
    path = get_config().tmp_dir / "results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("notebook,approach,data,weights,epochs,trainable_params,train_seconds,seconds_per_epoch,"
                    "test_accuracy\n03,a,synthetic,mnist,4,235,2.0,0.5,0.1\n")
    table = read_results()
    assert list(table.columns) == EXPECTED_COLUMNS
    assert table["n_train"].isna().all()
    table = record_result(**a_result(notebook="04"))
    assert list(table["n_train"].fillna(-1)) == [-1, 9400]


def test_accuracy_is_stored_unrounded_and_rounded_once_when_shown():
    """151 of 1024 is 14.746 %: the table says 14,7 %, as the notebook that measured it (not 14,8 %)."""
    from tlcourse import comparison_table

    table = record_result(**a_result(test_accuracy=151 / 1024))
    assert read_results().iloc[0]["test_accuracy"] == 151 / 1024
    assert comparison_table(table)["exactitud en test"].tolist() == ["14,7 %"]


def test_against_chance_uses_a_binomial_margin():
    from tlcourse.results import against_chance

    assert against_chance(0.016, 1024, 47) == "no se distingue del azar (2,1 % ± 0,9 puntos con 1.024 imágenes)"
    assert against_chance(0.147, 1024, 47).startswith("por encima del azar")
    assert against_chance(0.0, 100_000, 47).startswith("por debajo del azar")

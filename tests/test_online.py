"""Cells that need the network (notebook 07) check first and never stop Run All (tlcourse.online)."""

from __future__ import annotations

import time

from tlcourse import online


def test_offline_says_what_and_how(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    start = time.monotonic()
    assert online.ready_to_download("los vectores GloVe (822 MB)", "https://nlp.stanford.edu/data/glove.6B.zip",
                                    keras_cache="datasets/glove.6B.zip") is False
    assert time.monotonic() - start < 10
    said = capsys.readouterr().out
    assert "No hay conexión con nlp.stanford.edu: esta celda descargaría los vectores GloVe (822 MB)" in said
    assert said.count("nlp.stanford.edu") == 1          # the host once, not twice and "el notebook sigue" in said
    # Where to copy the file, as the reader's own home folder: never this machine's absolute path.
    assert "~/.keras/datasets/glove.6B.zip" in said and str(tmp_path) not in said
    assert len(said.strip().splitlines()) == 2


def test_missing_packages_say_how_to_install(capsys):
    assert online.ready_to_download("un modelo", "https://huggingface.co",
                                    packages=["numpy", "paquete_que_no_existe", "keras_hub_no"]) is False
    said = capsys.readouterr().out
    assert "pip install paquete_que_no_existe keras_hub_no" in said and "numpy" not in said.split("(")[1]


def test_file_in_keras_cache_needs_no_network(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    weights = tmp_path / "keras" / "models" / "w.h5"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    assert online.ready_to_download("pesos", "https://storage.googleapis.com/w.h5", keras_cache="models/w.h5")
    assert capsys.readouterr().out == ""


def test_server_that_answers(http_server, capsys):
    # The local server has no HEAD handler and answers 501: an answer all the same, so the network works.
    assert online.ready_to_download("algo", http_server + "/fichero.bin")
    assert capsys.readouterr().out == ""

"""The warning box printed when data or weights are not the real thing stays a box."""

from tlcourse.sources import BANNER_WIDTH, banner


def test_long_lines_are_wrapped_into_a_rectangular_box(capsys):
    banner(["EMNIST balanced: DATOS SINTÉTICOS, no el conjunto real.",
            "generador sintético de tlcourse (caracteres de fuentes tipográficas deformados) " * 2,
            ""])
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == rows[-1] and set(rows[0]) == {"!"}
    assert {len(row) for row in rows} == {len(rows[0])} and len(rows[0]) <= BANNER_WIDTH
    assert all(row.startswith("! ") and row.endswith(" !") for row in rows[1:-1])
    assert "DATOS SINTÉTICOS" in rows[1]


def test_a_word_longer_than_the_box_is_kept_whole(capsys):
    url = "https://example.org/" + "x" * 100
    banner(["Descárgalo de", url])
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == rows[-1] and len(rows[0]) <= BANNER_WIDTH
    assert f"! {url}" in rows

"""Spanish number formatting (tlcourse.fmt): what the notebooks print must read like the prose."""

import math

import pytest

from tlcourse import decimal, millions, percent, seconds, thousands


@pytest.mark.parametrize("value, text", [(96303, "96.303"), (15049775, "15.049.775"), (235, "235"), (0, "0"),
                                         (-1234, "-1.234"), (999.6, "1.000")])
def test_thousands(value, text):
    assert thousands(value) == text


@pytest.mark.parametrize("value, digits, text", [(1234.56, 1, "1.234,6"), (0.5, 2, "0,50"), (25.64, 1, "25,6"),
                                                 (1e6, 0, "1.000.000"), (-3.25, 1, "−3,2")])
def test_decimal(value, digits, text):
    assert decimal(value, digits) == text


@pytest.mark.parametrize("value, text", [(0.886, "88,6 %"), (1.0, "100,0 %"), (0.0, "0,0 %"), (0.05349, "5,3 %")])
def test_percent(value, text):
    assert percent(value) == text


def test_percent_digits_and_no_english_forms():
    assert percent(0.12345, 2) == "12,35 %"
    assert "." not in percent(0.886) and "%" in percent(0.886) and " %" in percent(0.886)


def test_millions_and_seconds():
    assert millions(25_636_712) == "25,6 millones"
    assert seconds(4.23) == "4,2 s"
    assert seconds(754) == "12 min 34 s"
    assert seconds(60) == "1 min 00 s"


def test_not_a_number_is_shown_as_such():
    assert decimal(math.nan) == "nan"


def test_negative_numbers_take_the_minus_sign():
    from tlcourse import decimal, percent

    assert decimal(-0.01, 2) == "−0,01" and percent(-0.132) == "−13,2 %" and decimal(-1234.5, 1) == "−1.234,5"

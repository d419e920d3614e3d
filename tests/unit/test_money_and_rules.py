from datetime import datetime, timezone
from decimal import Decimal

import pytest

from kindcity.config import ConfigError, check_config, load_config, normalise_database_url
from kindcity.domain.money import MoneyError, group_digits, percent_of, to_won
from kindcity.domain.organisations import normalise_business_number
from kindcity.domain.time import seoul_today


@pytest.mark.parametrize("text, won", [
    ("1500000", 1_500_000), ("1,500,000", 1_500_000), ("1,500,000원", 1_500_000), (" 150 000 ", 150_000),
    ("₩2,000", 2_000), (42, 42), (Decimal("1000"), 1000), ("0", 0), ("1,500,000 원", 1_500_000),
    ("1500000.00", 1_500_000), ("1_000_000", 1_000_000), ("₩ 12,345", 12_345),
])
def test_to_won_accepts(text, won):
    assert to_won(text) == won
    assert isinstance(to_won(text), int)


@pytest.mark.parametrize("value, code", [
    (1.5, "float"), (1000.0, "float"), ("1,000.5", "fraction"), (Decimal("0.1"), "fraction"), ("-5", "negative"),
    ("abc", "not_a_number"), ("", "not_a_number"), ("NaN", "not_a_number"), (True, "not_a_number"),
    ("1" + "0" * 14, "too_large"), (None, "not_a_number"), ("9" * 5000, "too_large"),
    ("1000 1000", "not_one_number"), ("1000,1000", "not_one_number"), ("10,00", "not_one_number"),
    ("1,000 000", "not_one_number"), ("1000 1000원", "not_one_number"), ("1.000.000", "not_one_number"),
    ("1,000-2,000", "not_one_number"), ("1e6", "not_a_number"),
])
def test_to_won_refuses(value, code):
    with pytest.raises(MoneyError) as raised:
        to_won(value)
    assert raised.value.code == code


def test_formatting_and_percent():
    assert group_digits(1_500_000) == "1,500,000"
    assert percent_of(50, 200) == 25
    assert percent_of(10, 0) == 0
    assert percent_of(300, 200) == 100


@pytest.mark.parametrize("raw, normalised", [
    ("409-81-23456", "409-81-23456"), ("4098123456", "409-81-23456"), ("410 12 34563", "410-12-34563"),
    ("220-81-62517", "220-81-62517"),
])
def test_business_number_valid(raw, normalised):
    assert normalise_business_number(raw) == normalised


@pytest.mark.parametrize("raw", ["409-81-23457", "123", "abcdefghij", "", "409-81-234567"])
def test_business_number_invalid(raw):
    assert normalise_business_number(raw) is None


def test_seoul_today_crosses_midnight_before_utc():
    # 15:30 UTC on 29 Nov is 00:30 on 30 Nov in Seoul.
    assert seoul_today(datetime(2026, 11, 29, 15, 30, tzinfo=timezone.utc)).day == 30
    assert seoul_today(datetime(2026, 11, 29, 14, 59, tzinfo=timezone.utc)).day == 29


def test_production_refuses_default_or_short_secret(tmp_path):
    with pytest.raises(ConfigError):
        check_config(load_config(str(tmp_path), {"KINDCITY_ENV": "production"}))
    with pytest.raises(ConfigError):
        check_config(load_config(str(tmp_path), {"KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": "short"}))
    with pytest.raises(ConfigError, match="KINDCITY_BASE_URL"):
        check_config(load_config(str(tmp_path), {"KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": "x" * 40}))
    good = load_config(str(tmp_path), {"KINDCITY_ENV": "production", "KINDCITY_SECRET_KEY": "x" * 40,
                                       "KINDCITY_BASE_URL": "https://kindcity.seogu.go.kr"})
    check_config(good)
    assert good["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_under_instance(tmp_path):
    cfg = load_config(str(tmp_path), {})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/kindcity.sqlite3"


def test_database_url_forms():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"

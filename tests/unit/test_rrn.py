from datetime import date

import pytest

from kindcity.domain.rrn import RrnError, erase_after, mask_rrn, normalise_rrn
from kindcity.rrn_keys import KeyringError, keyring_from_config, new_key

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("text, digits", [("900101-1234567", "9001011234567"), (" 0502283123456 ", "0502283123456"),
                                          ("851231-6000000", "8512316000000")])
def test_a_number_is_normalised(text, digits):
    assert normalise_rrn(text, TODAY) == digits


@pytest.mark.parametrize("text, code", [("900101-123456", "rrn_shape"), ("９００１０１１２３４５６７", "rrn_shape"),
                                        ("901301-1234567", "rrn_birth_date"), ("270101-3234567", "rrn_birth_date"),
                                        ("900230-2234567", "rrn_birth_date")])
def test_a_wrong_number_is_refused_without_echoing_it(text, code):
    with pytest.raises(RrnError) as caught:
        normalise_rrn(text, TODAY)
    assert caught.value.code == code and str(caught.value) == code


def test_masking_keeps_the_birth_date_and_the_seventh_digit_only():
    assert mask_rrn("9001011234567") == "900101-1******"


def test_erasure_waits_five_years_after_the_last_reported_year():
    assert erase_after(None, TODAY) == TODAY
    assert erase_after(2026, TODAY) == date(2032, 1, 1)


def test_the_keyring_decrypts_only_for_the_same_owner_and_key():
    k1, k2 = new_key(), new_key()
    ring = keyring_from_config({"KINDCITY_RRN_KEYS": f"k1:{k1},k2:{k2}", "KINDCITY_RRN_KEY_ID": "k2"})
    key_id, blob = ring.encrypt("9001011234567", "owner:1")
    assert key_id == "k2" and b"9001011234567" not in blob
    assert ring.decrypt(key_id, blob, "owner:1") == "9001011234567"
    with pytest.raises(KeyringError):
        ring.decrypt(key_id, blob, "owner:2")
    with pytest.raises(KeyringError):
        ring.decrypt("k1", blob, "owner:1")
    assert keyring_from_config({}) is None
    with pytest.raises(KeyringError):
        keyring_from_config({"KINDCITY_RRN_KEYS": f"k1:{k1}", "KINDCITY_RRN_KEY_ID": "k9"})

"""Field rules of core.validation that the API document states as patterns: what the pattern
refuses the server refuses, so a client or fuzzer reading the document is never surprised."""
from __future__ import annotations

import re

import pytest

from core.catalog.rules import SKU_SCHEMA_PATTERN, sku_problem
from core.validation import PHONE_PATTERN, normalize_phone


@pytest.mark.parametrize("text, e164", [
    ("+44 20 7946 0958", "+442079460958"),
    ("+44 (0)20 7946 0958", "+442079460958"),  # the national prefix in brackets is dropped
    ("+1 (415) 555-2671", "+14155552671"),
    ("+49.30.901820", "+4930901820"),
    ("+44 20 7946 0958 ", "+442079460958"),
    ("+1234567890", "+1234567890"),  # the contract's example, kept as written
    ("+7 999 000 00 00 00 00", "+799900000000000"),  # 15 digits
    ("+683 4002", "+6834002"),  # Niue: 7 digits, a possible number there
])
def test_a_phone_of_the_pattern_is_stored_in_e164(text, e164):
    assert re.fullmatch(PHONE_PATTERN, text)
    assert normalize_phone(text) == e164


@pytest.mark.parametrize("text", [
    "", "0000000000", " +44 20 7946 0958", "+44 20 7946 0958\n", "+1 800 FLOWERS", "+44 20 7946 0958 ext. 12",
    "++44 20 7946 0958", "+", "+1 555",  # 4 digits
    "+999 1234 5678",  # no country has the calling code 999
    "+0 1234 5678", "+000000000000000000000000000000",
    "+7 999 000 00 00 00 00 0",  # 16 digits
])
def test_a_phone_off_the_pattern_is_refused(text):
    assert not re.fullmatch(PHONE_PATTERN, text)
    with pytest.raises(ValueError, match="international form"):
        normalize_phone(text)


def test_every_country_s_example_numbers_are_of_the_pattern_and_kept_as_the_library_writes_them():
    import phonenumbers

    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
                assert normalize_phone(text) == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("sku, valid", [
    ("PROD001", True), ("a" * 64, True), ("0d7162f4a0134129b7f35dc9ab9dae4", True),
    ("a" * 65, False), ("-PROD", False), (" PROD001", False), ("PROD 1", False), ("PROD1\n", False),
    ("0d7162f4-a013-4129-b7f3-5dc9ab9dae47", False), ("0d7162f4a0134129b7f35dc9ab9dae47", False),
    ("0d71-62f4a0134129b7f35dc9ab9dae47-", False),
])
def test_the_sku_pattern_of_the_document_is_the_server_s_rule(sku, valid):
    assert bool(re.fullmatch(SKU_SCHEMA_PATTERN, sku)) is valid
    assert (sku_problem(sku) is None) is valid

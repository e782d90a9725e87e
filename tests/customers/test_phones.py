"""Phone numbers: anything a person writes becomes one E.164 number, shown in national format."""

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kehu.customers.phones import (
    InvalidPhone,
    ParsedPhone,
    phone_display,
    phone_parse,
    phone_parse_or_none,
)

MOBILE = "+8613800138000"
LANDLINE = "+861065529988"


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "0086 13800138000",
        "86-138-0013-8000",
        "138.0013.8000",
        "138/0013/8000",
        "  138 0013 8000  ",
        "１３８ ００１３ ８０００",  # full-width digits from a Chinese input method
    ],
)
def test_every_written_form_of_a_mobile_is_one_e164_number(written):
    assert phone_parse(written) == ParsedPhone(e164=MOBILE, extension="")


@pytest.mark.parametrize(
    "written",
    [
        "010 6552 9988",
        "(010) 6552-9988",
        "010-65529988",
        "010.6552.9988",
        "010/6552 9988",
        "+86 10 6552 9988",
        "+86 (0) 10 6552 9988",
        "0086 10 65529988",
    ],
)
def test_every_written_form_of_a_landline_is_one_e164_number(written):
    assert phone_parse(written) == ParsedPhone(e164=LANDLINE, extension="")


@pytest.mark.parametrize(
    "written",
    [
        "(010) 6552-9988 ext. 12",
        "+86 10 6552 9988 ext. 12",
        "010 6552 9988 ext 12",
        "010-65529988 x12",
        "010 6552 9988 #12",
        "010-6552 9988 转 12",
        "010-65529988转12",
        "010 6552 9988 分机12",
    ],
)
def test_extensions_are_kept_apart_from_the_number(written):
    assert phone_parse(written) == ParsedPhone(e164=LANDLINE, extension="12")


def test_numbers_of_other_countries_keep_their_country_code():
    assert phone_parse("+44 20 7946 0958").e164 == "+442079460958"
    assert phone_parse("+1 650-253-0000").e164 == "+16502530000"


def test_region_decides_how_numbers_without_country_code_are_read():
    assert phone_parse("020 7946 0958", region="GB").e164 == "+442079460958"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "   ",
        "anonymous",
        "withheld",
        "unknown",
        "私人号码",
        "0",
        "12345",
        "+86 138 0013 800",  # one digit short
        "138 0013 80001",  # one digit too many
        "1" * 41,
    ],
)
def test_invalid_or_withheld_numbers_are_refused_with_a_message(written):
    with pytest.raises(InvalidPhone) as error:
        phone_parse(written)
    assert str(error.value)
    assert phone_parse_or_none(written) is None


def test_invalid_message_quotes_what_was_written():
    with pytest.raises(InvalidPhone, match="12345"):
        phone_parse("12345")
    with pytest.raises(InvalidPhone, match="empty"):
        phone_parse("")
    with pytest.raises(InvalidPhone, match="too long"):
        phone_parse("1" * 41)


def test_display_is_national_format_for_home_numbers():
    assert phone_display(MOBILE) == "138 0013 8000"
    assert phone_display(LANDLINE) == "010 6552 9988"
    assert phone_display(LANDLINE, "12") == "010 6552 9988 ext. 12"


def test_display_is_international_for_foreign_numbers():
    assert phone_display("+442079460958") == "+44 20 7946 0958"


def test_display_follows_the_home_region_setting(settings):
    settings.KEHU_PHONE_REGION = "GB"
    assert phone_display(MOBILE) == "+86 138 0013 8000"
    assert phone_display("+442079460958") == "020 7946 0958"


def test_displayed_number_reads_back_to_the_same_number():
    for e164, extension in ((MOBILE, ""), (LANDLINE, "12"), ("+442079460958", "")):
        assert phone_parse(phone_display(e164, extension)) == ParsedPhone(e164, extension)


# A valid Chinese number, written in any of the ways people write it, reads back the same.
_cn_numbers = st.sampled_from(
    [
        n
        for n in (
            phonenumbers.example_number_for_type("CN", t)
            for t in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE,
                phonenumbers.PhoneNumberType.TOLL_FREE,
            )
        )
        if n is not None
    ]
)


@st.composite
def _written_numbers(draw):
    prefix = draw(st.sampled_from(["138", "139", "150", "186", "188", "177", "135"]))
    rest = draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    return phonenumbers.parse(prefix + rest, "CN")


@settings(max_examples=150, deadline=None)
@given(
    number=st.one_of(_cn_numbers, _written_numbers()),
    style=st.sampled_from(
        [
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.RFC3966,
        ]
    ),
    separator=st.sampled_from([" ", "-", ".", "/", ""]),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_any_formatting_of_a_valid_number_round_trips(number, style, separator, pad):
    assume(phonenumbers.is_valid_number(number))
    written = phonenumbers.format_number(number, style)
    if style != phonenumbers.PhoneNumberFormat.RFC3966:
        written = written.replace(" ", separator).replace("-", separator)
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert phone_parse(pad + written + pad).e164 == expected
    assert phone_parse(phone_display(expected)).e164 == expected


def test_an_extension_longer_than_the_stored_column_is_refused():
    assert phone_parse("010 6552 9988 ext. 1234567890").extension == "1234567890"
    with pytest.raises(InvalidPhone, match="extension"):
        phone_parse("010 6552 9988 ext. 12345678901")

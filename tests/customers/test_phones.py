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


# ---------------------------------------------------------------- the fast reading
#
# phone_parse reads the plain forms (digits in groups, "+86", "0086", parentheses) without
# phonenumbers.parse, and types numbers with the library's metadata compiled once. Both
# must give exactly what the library gives: here phone_parse is compared with the
# straightforward use of the library it replaced, on every form kehu's generator and
# users write, on odd and invalid input, and on what hypothesis makes up.


def _reference(text: str, region: str = "CN"):
    """What phone_parse gave before the fast path: (e164, extension, type) or the message."""
    from kehu.customers.phones import _CHINESE_EXTENSION, MAX_EXTENSION

    cleaned = (text or "").strip()
    if not cleaned:
        return "empty"
    if len(cleaned) > 40:
        return "too long"
    try:
        number = phonenumbers.parse(_CHINESE_EXTENSION.sub(" ext. ", cleaned), region)
    except phonenumbers.NumberParseException:
        return f"“{cleaned}” is not a phone number."
    if not phonenumbers.is_valid_number(number):
        return f"“{cleaned}” is not a valid phone number."
    if len(number.extension or "") > MAX_EXTENSION:
        return f"The extension of “{cleaned}” is too long."
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # services.phone_label_guess read the type from the stored E.164 again.
    return e164, number.extension or "", phonenumbers.number_type(phonenumbers.parse(e164))


def _fast(text: str, region: str = "CN"):
    from kehu.customers.phones import _read

    _read.cache_clear()  # read afresh, and then once more from the memo
    try:
        first = phone_parse(text, region=region)
    except InvalidPhone as error:
        message = str(error)
        return {"The phone number is empty.": "empty",
                "The phone number is too long.": "too long"}.get(message, message)
    again = phone_parse(text, region=region)
    assert (again, again.number_type) == (first, first.number_type)
    return first.e164, first.extension, first.number_type


def _written_forms(rng) -> list[str]:
    """Numbers as people write them, valid or not, in kehu's region and others."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import generate

    forms = []
    for _ in range(600):
        prefix = f"1{rng.randrange(100):02d}"  # every 1xx, valid mobile prefix or not
        national = prefix + f"{rng.randrange(10**8):08d}"
        forms.append(generate.mobile_formats(national, rng))
        forms.append(generate.mobile_formats(national[: rng.randrange(5, 14)], rng))
        area = str(rng.randrange(10, 1000))
        local = f"{rng.randrange(10**8):08d}"[: rng.randrange(5, 9)]
        landline = generate.landline_formats(area, local, rng)
        forms.append(landline)
        forms.append(landline + rng.choice([" ext. 12", " 转 305", "分机8", " x99", " #7",
                                            " ext 12345678901"]))
        digits = f"{rng.randrange(10**12):012d}"[: rng.randrange(1, 13)]
        forms += [
            digits, "+" + digits, "00" + digits, "0086" + digits, "86" + digits,
            "+86 0" + digits, "(0" + digits[:3] + ") " + digits[3:], "(+" + digits[:2] + ")"
            + digits[2:], "+" + digits[:2] + "-" + digits[2:], "0" + digits,
            "17951" + national, "12593 " + national, "0" + national, "086" + national,
            "+1 " + digits, "+44 " + digits, "+852 " + digits, "001 " + digits,
        ]
    forms += [generate.mobile_formats(generate.unknown_mobile(rng), rng) for _ in range(50)]
    forms += [
        "", " ", "anonymous", "withheld", "unknown", "私人号码", "0", "00", "+", "++86 138",
        "+86+138 0013 8000", "138--0013--8000", "138  0013 8000", "(138 0013 8000",
        "138) 0013 8000", "((010)) 6552 9988", "(010)6552-9988", "010 6552 9988 ext. 12",
        "１３８ ００１３ ８０００", "138 0013 8000 ", "tel:+86-138-0013-8000", "1-800-FLOWERS",
        "+800 1234 5678", "+882 1234 5678", "+39 06 1234 5678", "+39 312 345 6789",
        "+44 20 7946 0958", "+1 650 253 0000", "+7 912 345 6789", "13800138000x12",
        "8613800138000", "86 10 6552 9988", "1" * 17, "1" * 20, "1" * 40, "1" * 41,
        "+86 138 0013 8000;ext=5", "138 0013 8000 / 139 0013 8000",
    ]
    return forms


def test_fast_reading_gives_what_the_library_gives_on_every_written_form():
    import random

    rng = random.Random(7)
    forms = _written_forms(rng)
    assert len(forms) > 10_000
    fast_paths = 0
    from kehu.customers.phones import _plain_number

    for text in forms:
        assert _fast(text) == _reference(text), text
        fast_paths += _plain_number(text.strip(), "CN") is not None
    assert fast_paths > len(forms) // 3  # the fast path was taken, and often


@pytest.mark.parametrize("region", ["CN", "GB", "US", "IT", "HK", "DE"])
def test_fast_reading_follows_the_region(region):
    import random

    rng = random.Random(region)
    for text in _written_forms(rng)[:1500]:
        assert _fast(text, region) == _reference(text, region), (region, text)


def test_number_types_are_the_librarys_for_every_region_and_type():
    from kehu.customers.phones import _number_type

    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            for number in (phonenumbers.example_number_for_type(region, kind),
                           phonenumbers.invalid_example_number(region)):
                if number is None:
                    continue
                for variant in (number.national_number, number.national_number + 1,
                                number.national_number // 10):
                    candidate = phonenumbers.PhoneNumber(
                        country_code=number.country_code, national_number=variant,
                        italian_leading_zero=number.italian_leading_zero)
                    assert _number_type(candidate) == phonenumbers.number_type(candidate)
                    checked += 1
    assert checked > 3000


_PIECES = st.sampled_from(
    ["+", "+86", "0086", "86", "(", ")", "(+86)", "(0", " ", "-", "--", ".", "/", "0", "1",
     "13", "138", "0013", "8000", "10", "21", "755", "6552", "9988", "17951", "12593", "00",
     "ext.", " ext. ", "x", "#", "转", "分机", "a", "Z", "１", "\u00a0", ";", ","]
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=6), digits=st.text("0123456789", max_size=12),
       region=st.sampled_from(["CN", "CN", "GB", "US"]))
def test_fast_reading_matches_the_library_on_made_up_text(pieces, digits, region):
    text = "".join(pieces[: len(pieces) // 2]) + digits + "".join(pieces[len(pieces) // 2:])
    assert _fast(text, region) == _reference(text, region)


@settings(max_examples=500, deadline=None)
@given(groups=st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1,
                       max_size=6),
       separator=st.sampled_from([" ", "-", ""]), lead=st.sampled_from(
           ["", "+", "+86 ", "0086 ", "(+86) ", "(", "0", "00"]))
def test_fast_reading_matches_the_library_on_grouped_digits(groups, separator, lead):
    text = lead + separator.join(groups)
    if lead == "(":
        text = "(" + groups[0] + ")" + separator + separator.join(groups[1:])
    assert _fast(text) == _reference(text)

"""Phone numbers through libphonenumber: parse anything a person writes, store E.164."""

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType
from phonenumbers import phonenumberutil as _util


class InvalidPhone(ValueError):
    pass


# How extensions are written in Chinese ("010-6552 9988 转 12"); libphonenumber knows only
# the Latin forms (ext., x, #).
# Phone.extension's column width.
MAX_EXTENSION = 10
_CHINESE_EXTENSION = re.compile(r"\s*(?:转|分机)\s*")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class ParsedPhone:
    """A number as stored: E.164 and extension. Two are the same phone when those are.

    `number_type` is what libphonenumber says the number is (a phonenumbers.PhoneNumberType),
    known from reading it: whether it is a mobile decides a stored phone's label.

    A plain class with slots rather than a frozen dataclass: an import makes one per phone
    of a million rows, and the dataclass's __init__ cost several times as much.
    """

    __slots__ = ("e164", "extension", "number_type")

    def __init__(self, e164: str, extension: str,
                 number_type: int = PhoneNumberType.UNKNOWN) -> None:
        self.e164 = e164
        self.extension = extension
        self.number_type = number_type

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParsedPhone):
            return NotImplemented
        return self.e164 == other.e164 and self.extension == other.extension

    def __hash__(self) -> int:
        return hash((self.e164, self.extension))

    def __repr__(self) -> str:
        return f"ParsedPhone(e164={self.e164!r}, extension={self.extension!r})"

    @property
    def is_mobile(self) -> bool:
        return self.number_type in _MOBILE_TYPES


# What phone_parse found wrong, turned into a message in the language of the moment.
_NOT_A_NUMBER, _NOT_VALID, _EXTENSION_TOO_LONG = 1, 2, 3


def phone_parse(text: str, *, region: str | None = None) -> ParsedPhone:
    """Reads '+86 138-0013-8000', '0086 13800138000', '(010) 6552-9988 ext. 12' alike.

    Raises InvalidPhone with a message for people when the text is no valid number.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidPhone(_("The phone number is empty."))
    if len(cleaned) > 40:
        raise InvalidPhone(_("The phone number is too long."))
    outcome = _read(cleaned, region or settings.KEHU_PHONE_REGION)
    if isinstance(outcome, ParsedPhone):
        return outcome
    if outcome == _NOT_A_NUMBER:
        raise InvalidPhone(_("“%(text)s” is not a phone number.") % {"text": cleaned})
    if outcome == _NOT_VALID:
        raise InvalidPhone(_("“%(text)s” is not a valid phone number.") % {"text": cleaned})
    raise InvalidPhone(_("The extension of “%(text)s” is too long.") % {"text": cleaned})


@lru_cache(maxsize=4096)  # the same switchboard number on many rows of an import
def _read(cleaned: str, region: str) -> ParsedPhone | int:
    plain = _plain_number(cleaned, region)
    if plain is not None:
        # No extension in a plain form; the national significant number is the digits
        # left, leading zeros and all, so E.164 is "+", country code and those digits.
        country_code, national, number_type = plain
        if number_type == PhoneNumberType.UNKNOWN:
            return _NOT_VALID
        return ParsedPhone(f"+{country_code}{national}", "", number_type)
    try:
        number = phonenumbers.parse(_CHINESE_EXTENSION.sub(" ext. ", cleaned), region)
    except phonenumbers.NumberParseException:
        return _NOT_A_NUMBER
    # The type is UNKNOWN exactly when is_valid_number is False (both ask the same
    # metadata of the number's region), and it tells a mobile from a landline.
    number_type = _number_type(number)
    if number_type == PhoneNumberType.UNKNOWN:
        return _NOT_VALID
    if len(number.extension or "") > MAX_EXTENSION:
        return _EXTENSION_TOO_LONG
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
        number_type=number_type,
    )


# The plain forms nearly every number is written in: ASCII digits in groups separated by
# one space or hyphen, perhaps after a "+" and perhaps with the first group in
# parentheses: "138 0013 8000", "+86-138-0013-8000", "0086 13800138000", "(+86) 138 0013
# 8000", "(021) 6234-5678". libphonenumber reads these as it reads the bare digits (the
# separators are punctuation it drops; nothing in them can be an extension), but its
# parse() spends most of its time normalising the text character by character in
# Python. For them, _plain_number takes the steps parse() takes on the bare digits, with
# the library's own functions and metadata, and defers to parse() whenever a step would
# not end in a number (parse() then says why). tests/customers/test_phones.py checks it
# against parse() on every form kehu reads.
# (The groups after the first: each one separator, then digits; written so that the
# regular expression engine never backtracks.)
_PLAIN = re.compile(r"(\()?(\+)?([0-9]+)(?(1)\))([0-9]*(?:[ -][0-9]+)*)")
_SEPARATORS = str.maketrans("", "", " -")
_IDD_PATTERNS: dict[str, re.Pattern] = {}
_REGION_METADATA: dict[str, PhoneMetadata] = {}
_PREFIX_PATTERNS: dict[int, tuple] = {}


def _national_prefix(metadata) -> re.Pattern:
    """The metadata's national_prefix_for_parsing, compiled once (never matching if none)."""
    known = _PREFIX_PATTERNS.get(id(metadata))
    if known is None or known[0] is not metadata:
        known = _PREFIX_PATTERNS[id(metadata)] = (
            metadata, re.compile(metadata.national_prefix_for_parsing or "(?!)"))
    return known[1]
_SHORT = (_util.ValidationResult.TOO_SHORT, _util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
          _util.ValidationResult.INVALID_LENGTH)


def _plain_number(text: str, region: str) -> tuple[int, str, int] | None:
    """(country code, national significant number, type) of a plain form, or None to
    leave the text to parse()."""
    match = _PLAIN.fullmatch(text)
    if match is None or region not in _util.SUPPORTED_REGIONS:
        return None
    digits = match[3] + match[4].translate(_SEPARATORS)
    if not 7 <= len(digits) <= 20:
        return None
    metadata = _REGION_METADATA.get(region)
    if metadata is None:
        metadata = _REGION_METADATA[region] = PhoneMetadata.metadata_for_region(region)
    # _maybe_extract_country_code: after "+" or the region's international (IDD) prefix
    # comes the country code; without either the number is of the region (parse() also
    # tries the region's country code written without "+": left to it).
    if match[2]:
        international, number = True, digits
    else:
        pattern = _IDD_PATTERNS.get(region)
        if pattern is None:  # the library's stand-in for a region without one
            pattern = _IDD_PATTERNS[region] = re.compile(
                metadata.international_prefix or "NonMatch")
        international, number = _util._parse_prefix_as_idd(pattern, digits)
    if international:
        if len(number) <= _util._MIN_LENGTH_FOR_NSN:
            return None
        country_code, national = _util._extract_country_code(number)
        if country_code == 0:
            return None
        number_region = _util.region_code_for_country_code(country_code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, number_region)
            if metadata is None:
                return None
    else:
        if number.startswith(str(metadata.country_code)):
            return None
        country_code, national = metadata.country_code, number
    if len(national) < _util._MIN_LENGTH_FOR_NSN:
        return None
    # The national prefix (trunk 0) or carrier code, taken off as parse() does (the
    # library's function is only worth its cost where the prefix pattern matches).
    if _national_prefix(metadata).match(national) is not None:
        _carrier, potential, stripped = _util._maybe_strip_national_prefix_carrier_code(
            national, metadata)
        if stripped and _util._test_number_length(potential, metadata) not in _SHORT:
            national = potential
    if not _util._MIN_LENGTH_FOR_NSN <= len(national) <= _util._MAX_LENGTH_FOR_NSN:
        return None
    # Where one country code serves several regions (+1, +7, +44 …), which region's
    # metadata types the number depends on its digits: the library decides.
    if len(_util.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())) != 1:
        number = PhoneNumber(country_code=country_code)
        _util._set_italian_leading_zeros_for_phone_number(national, number)
        number.national_number = int(national)
        return country_code, national, _number_type(number)
    return country_code, national, _national_type(
        PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, _util.region_code_for_country_code(country_code)), national)


# phonenumbers.number_type's own steps (_number_type_helper), with the patterns of its
# metadata compiled once and the descriptions that cannot fit a number of that length
# left out: the library looks every pattern up again on every call, which took most of
# a number's reading. The first description the number matches, in the library's order,
# gives its type; fixed line and mobile come last and together.
_TYPE_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE), ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST), ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER), ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN), ("voicemail", PhoneNumberType.VOICEMAIL),
)
_TYPE_PLANS: dict[tuple[int, int], tuple] = {}
_NEVER = re.compile(r"(?!)")


def _description_pattern(description, length: int) -> re.Pattern:
    """_is_number_matching_desc for numbers of one length, as one pattern to fullmatch."""
    if description is None or not description.national_number_pattern:
        return _NEVER
    if description.possible_length and length not in description.possible_length:
        return _NEVER
    return re.compile(description.national_number_pattern)


def _type_plan(metadata, length: int) -> tuple:
    key = (id(metadata), length)
    plan = _TYPE_PLANS.get(key)
    if plan is None or plan[0] is not metadata:
        others = tuple((pattern, kind) for pattern, kind in (
            (_description_pattern(getattr(metadata, name), length), kind)
            for name, kind in _TYPE_ORDER) if pattern is not _NEVER)
        plan = _TYPE_PLANS[key] = (
            metadata, _description_pattern(metadata.general_desc, length), others,
            _description_pattern(metadata.fixed_line, length),
            _description_pattern(metadata.mobile, length),
            metadata.same_mobile_and_fixed_line_pattern,
        )
    return plan


def _number_type(number: PhoneNumber) -> int:
    region = _util.region_code_for_number(number)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
    return _national_type(metadata, _util.national_significant_number(number))


def _national_type(metadata, national: str) -> int:
    if metadata is None:
        return PhoneNumberType.UNKNOWN
    _metadata, general, others, fixed_line, mobile, same_patterns = _type_plan(
        metadata, len(national))
    if general.fullmatch(national) is None:
        return PhoneNumberType.UNKNOWN
    for pattern, kind in others:
        if pattern.fullmatch(national) is not None:
            return kind
    if fixed_line.fullmatch(national) is not None:
        if same_patterns or mobile.fullmatch(national) is not None:
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not same_patterns and mobile.fullmatch(national) is not None:
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def phone_parse_or_none(text: str, *, region: str | None = None) -> ParsedPhone | None:
    try:
        return phone_parse(text, region=region)
    except InvalidPhone:
        return None


def phone_display(e164: str, extension: str = "") -> str:
    """National format for numbers of the home region, international for the rest."""
    number = phonenumbers.parse(e164)
    home = phonenumbers.country_code_for_region(settings.KEHU_PHONE_REGION)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    text = phonenumbers.format_number(number, style)
    if not extension:
        return text
    return _("%(number)s ext. %(extension)s") % {"number": text, "extension": extension}

"""Phone numbers through libphonenumber: parse anything a person writes, store E.164."""

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class InvalidPhone(ValueError):
    pass


# How extensions are written in Chinese ("010-6552 9988 转 12"); libphonenumber knows only
# the Latin forms (ext., x, #).
# Phone.extension's column width.
MAX_EXTENSION = 10
_CHINESE_EXTENSION = re.compile(r"\s*(?:转|分机)\s*")


@dataclass(frozen=True)
class ParsedPhone:
    e164: str
    extension: str


def phone_parse(text: str, *, region: str | None = None) -> ParsedPhone:
    """Reads '+86 138-0013-8000', '0086 13800138000', '(010) 6552-9988 ext. 12' alike.

    Raises InvalidPhone with a message for people when the text is no valid number.
    """
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidPhone(_("The phone number is empty."))
    if len(cleaned) > 40:
        raise InvalidPhone(_("The phone number is too long."))
    try:
        number = phonenumbers.parse(
            _CHINESE_EXTENSION.sub(" ext. ", cleaned), region or settings.KEHU_PHONE_REGION
        )
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_("“%(text)s” is not a phone number.") % {"text": cleaned}) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_("“%(text)s” is not a valid phone number.") % {"text": cleaned})
    if len(number.extension or "") > MAX_EXTENSION:
        raise InvalidPhone(
            _("The extension of “%(text)s” is too long.") % {"text": cleaned}
        )
    return ParsedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
    )


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

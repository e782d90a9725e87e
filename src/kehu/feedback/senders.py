"""How invitations leave: email through Django's email backend, SMS through a pluggable
sender named by the KEHU_SMS_SENDER setting.

A real gateway is a class with `send(self, *, to: str, body: str) -> None` that raises on
failure; point KEHU_SMS_SENDER at it. The default writes each message to
DATA_DIR/sms.log, so that a fresh install sends nothing by accident."""

import logging
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class FileSmsSender:
    """Appends each message to DATA_DIR/sms.log and logs it: the console/file default."""

    def send(self, *, to: str, body: str) -> None:
        line = f"{datetime.now(UTC).isoformat()}\t{to}\t{body.replace(chr(10), ' ')}\n"
        with open(settings.DATA_DIR / "sms.log", "a", encoding="utf-8") as out:
            out.write(line)
        log.info("SMS to %s: %s", to, body)


def sms_sender() -> SmsSender:
    return import_string(settings.KEHU_SMS_SENDER)()


def email_send(*, to: str, subject: str, body: str) -> None:
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])


def sms_send(*, to: str, body: str) -> None:
    sms_sender().send(to=to, body=body)

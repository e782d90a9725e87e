"""What every router needs: the error shape, naming users, and stale writes as 409."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Schema, Status

from kehu.users.models import User


class ErrorOut(Schema):
    detail: str


def active_user(username: str | None, *, field: str = "owner") -> User | None:
    """The active user of that name; none asked for is None, an unknown one a 422."""
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("No active user “%(name)s”.") % {"name": username}]})
    return user


def write_or_conflict(write):
    """Runs a service write; a stale version is a conflict (409), other refusals 422."""
    try:
        return write()
    except ValidationError as error:
        if getattr(error, "code", None) == "stale":
            return Status(409, {"detail": error.messages[0]})
        raise

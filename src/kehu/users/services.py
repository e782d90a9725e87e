from django.db import transaction

from kehu.users.models import ApiToken, User
from kehu.users.roles import Role


@transaction.atomic
def user_create(
    *, username: str, password: str, role: Role | str, first_name: str = "", last_name: str = "",
    email: str = "", extension: str = "", team: str = "",
) -> User:
    user = User(
        username=username, role=Role(role), first_name=first_name, last_name=last_name,
        email=email, extension=extension, team=team.strip(), is_staff=role == Role.ADMIN,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its raw value, which is shown once and never stored."""
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(user=user, name=name, digest=ApiToken.digest_of(raw))
    return token, raw


@transaction.atomic
def user_update(*, actor: User, user: User, role: Role | str, is_active: bool,
                first_name: str, last_name: str, email: str, extension: str = "",
                team: str = "") -> User:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if user.pk == actor.pk and (not is_active or role != Role.ADMIN):
        raise ValidationError(_("You cannot remove your own administrator rights."))
    user.role, user.is_active = Role(role), is_active
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.extension, user.team = extension, team.strip()
    user.is_staff = user.role == Role.ADMIN
    user.full_clean()
    user.save()
    return user

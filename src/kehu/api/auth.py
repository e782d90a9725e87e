from django.utils import timezone
from ninja.security import HttpBearer

from kehu.users.models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kehu_…`; tokens are looked up by their SHA-256 digest."""

    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), user__is_active=True)
            .first()
        )
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.users.roles import Capability, Role, role_can


def secret_digest(secret: str) -> str:
    """What kehu keeps of a secret it hands out (API tokens, webhook tokens, feed and survey
    addresses): enough to recognise it, never enough to give it back."""
    return hashlib.sha256(secret.encode()).hexdigest()


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.AGENT)
    # The telephony system names the agent a call rings for by username or extension.
    extension = models.CharField(_("phone extension"), max_length=20, blank=True, db_index=True)
    # Reports group people by it; a supervisor's "team" is the people who share theirs.
    team = models.CharField(_("team"), max_length=100, blank=True)

    def can(self, capability: Capability) -> bool:
        return self.is_active and role_can(self.role, capability)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")

    digest_of = staticmethod(secret_digest)

    @staticmethod
    def generate_raw() -> str:
        return "kehu_" + secrets.token_urlsafe(32)

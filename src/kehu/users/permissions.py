from functools import wraps

from django.core.exceptions import PermissionDenied

from kehu.users.roles import Capability


def require(capability: Capability):
    """View decorator: the signed-in user's role must grant the capability, else 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated or not request.user.can(capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def check(request, capability: Capability) -> None:
    """For API operations: the signed-in or token user must have the capability, else 403."""
    if not request.user.can(capability):
        raise PermissionDenied

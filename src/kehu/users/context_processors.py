from kehu.users.roles import Capability


def capabilities(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": {}}
    return {"can": {c.name.lower(): user.can(c) for c in Capability}}

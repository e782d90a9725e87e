from django.utils import translation

from kehu.telephony import views

PREFIX = "/cti/"


class CtiWebhookMiddleware:
    """Hands POST /cti/<token> to the webhook as soon as the security headers are set.

    The telephony system is a machine with a token: it has no session, user, CSRF
    cookie, messages or static files, and the middleware that serve those (and the URL
    resolver) cost about a quarter of the CPU of an event, which the webhook's 500
    events/s on two cores cannot spare. What of them still applies is done here: the
    Host check, the language of error messages, Content-Length. Any other path under
    /cti/ goes the usual way (and finds 404).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request.path_info[len(PREFIX):]
        if not request.path_info.startswith(PREFIX) or not token or "/" in token:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a Host not in ALLOWED_HOSTS
        with translation.override(translation.get_language_from_request(request)):
            response = views.cti_webhook(request, token=token)
        response.headers["Content-Length"] = str(len(response.content))
        return response

"""kehu settings: everything a deployment changes comes from KEHU_* environment variables."""

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from kehu.config.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("KEHU_DATA_DIR", str(Path.cwd() / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("KEHU_DEBUG", False)
# Behind a TLS-terminating proxy: secure cookies, HSTS and the HTTPS redirect.
HTTPS = env_bool("KEHU_HTTPS", False)


def _secret_key() -> str:
    configured = env_str("KEHU_SECRET_KEY")
    if configured:
        return configured
    # A single-machine install keeps a generated key in its data directory so
    # sessions survive restarts without anyone having to invent a secret.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("KEHU_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("KEHU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "huey.contrib.djhuey",
    "kehu.config",
    "kehu.users",
    "kehu.customers",
    "kehu.telephony",
    "kehu.service",
    "kehu.promises",
    "kehu.sales",
    "kehu.loyalty",
    "kehu.api",
    "kehu.webhooks",
    "kehu.webform",
    "kehu.feedback",
    "kehu.insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The CTI webhook answers here, without the rest (see its docstring).
    "kehu.telephony.middleware.CtiWebhookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehu.config.urls"
WSGI_APPLICATION = "kehu.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.users.context_processors.capabilities",
            ],
        },
    },
]

DATABASE_URL = env_str("KEHU_DATABASE_URL", f"sqlite:///{DATA_DIR / 'kehu.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Kept open between requests like PostgreSQL's (conn_max_age above): a new SQLite
    # connection costs a millisecond or more (schema parse, pragmas) and an empty page cache.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while an import writes; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writers.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=10000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            # Checkpoints run in a thread of their own (kehu.db.checkpoints_start), not in
            # the commit of whichever writer passes 1,000 pages; SQLite's own only as a
            # safety net, should that thread fall behind or be gone: at 64 MB of WAL
            # (16,384 pages of 4 KiB), and the file cut back to 64 MB once copied back.
            " PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("KEHU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("KEHU_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = env_str("KEHU_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# Phone numbers written without a country code are read in this region.
KEHU_PHONE_REGION = env_str("KEHU_PHONE_REGION", "CN")
# ISO 4217 code of goodwill and compensation amounts.
KEHU_CURRENCY = env_str("KEHU_CURRENCY", "CNY")
# How long before a promise falls due its owner is reminded.
KEHU_PROMISE_REMINDER_HOURS = env_int("KEHU_PROMISE_REMINDER_HOURS", 24)
# Customer value refresh (kehu analyze refresh, nightly): days ahead for expected
# purchases, months of lifetime value (30 days each) discounted at a rate per month, and
# the probability of still being a customer below which a repeat buyer is at churn risk.
KEHU_VALUE_HORIZON_DAYS = env_int("KEHU_VALUE_HORIZON_DAYS", 90)
KEHU_VALUE_CLV_MONTHS = env_int("KEHU_VALUE_CLV_MONTHS", 12)
KEHU_VALUE_DISCOUNT_RATE = float(env_str("KEHU_VALUE_DISCOUNT_RATE", "0.01"))
KEHU_VALUE_CHURN_THRESHOLD = float(env_str("KEHU_VALUE_CHURN_THRESHOLD", "0.5"))
# Largest file an agent may attach to a case.
KEHU_ATTACHMENT_MAX_MB = env_int("KEHU_ATTACHMENT_MAX_MB", 10)

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request without it
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 200 * 1024 * 1024

HUEY = {
    "huey_class": "huey.SqliteHuey",
    "name": "kehu",
    "filename": str(DATA_DIR / "huey.sqlite3"),
    "immediate": env_bool("KEHU_HUEY_IMMEDIATE", False),
    "consumer": {"workers": 2, "worker_type": "thread"},
}

# Where kehu is reached, for the links in webhook payloads (sent with no request at hand).
KEHU_BASE_URL = env_str("KEHU_BASE_URL", "")
# The public web form: submissions per client address in a sliding window.
KEHU_WEBFORM_LIMIT = env_int("KEHU_WEBFORM_LIMIT", 5)
KEHU_WEBFORM_WINDOW_MINUTES = env_int("KEHU_WEBFORM_WINDOW_MINUTES", 60)
# Surveys: no customer is asked more than once in this many days, across all surveys.
KEHU_SURVEY_THROTTLE_DAYS = env_int("KEHU_SURVEY_THROTTLE_DAYS", 30)
# Requests to the survey answer page per client address in the web form's window.
KEHU_SURVEY_LIMIT = env_int("KEHU_SURVEY_LIMIT", 30)
# How SMS invitations leave: a class with send(*, to, body); the default writes them to
# DATA_DIR/sms.log (and the log) so that nothing is sent until a gateway is configured.
KEHU_SMS_SENDER = env_str("KEHU_SMS_SENDER", "kehu.feedback.senders.FileSmsSender")
# How email leaves (survey invitations, web-form receipts, case updates): by SMTP once
# KEHU_EMAIL_HOST names a server; until then each message is written to DATA_DIR/mail, so
# that a new installation sends nothing and fails on nothing (Django's default would try
# an SMTP server on this machine, and every sending job would fail).
EMAIL_HOST = env_str("KEHU_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("KEHU_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("KEHU_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_str("KEHU_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("KEHU_EMAIL_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("KEHU_EMAIL_FROM", "kehu@localhost")
# SERVQUAL: a mean gap (perception − expectation) within this of zero reads as ES = PS.
KEHU_SERVQUAL_TOLERANCE = float(env_str("KEHU_SERVQUAL_TOLERANCE", "0.25"))
# Reverse proxies in front of kehu that append the client's address to X-Forwarded-For;
# 0 trusts no such header (anyone can write it).
KEHU_PROXY_COUNT = env_int("KEHU_PROXY_COUNT", 0)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KEHU_LOG_LEVEL", "WARNING")},
}

KEHU_PAGE_SIZE = 25
KEHU_PRODUCT_NAME = _("kehu")

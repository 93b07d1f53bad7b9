"""Settings from the environment, with safe defaults for the embedded demo."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where runtime files live (SQLite database, secret key, uploads, e-mail outbox).
VAR_DIR = Path(os.environ.get("FIELDSVC_VAR_DIR", REPO_ROOT / "var")).resolve()
#: Whole benchmark sets and geodata beside the project, for benchmarks only (the demo and the tests
#: use what ships in the repository).
SHARED_DATA_DIR = Path(os.environ.get("FIELDSVC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
#: Tehran County's boundary (OpenStreetMap, ODbL), shipped with the package for the demo.
TEHRAN_COUNTY_GEOJSON = Path(__file__).resolve().parent / "data" / "tehran_county.geojson"
#: The deployment's time zone for display, calendars and planning days (one per deployment).
TIMEZONE = os.environ.get("FIELDSVC_TZ", "Asia/Tehran")
#: Seconds without a heartbeat after which a running plan run's worker is taken for dead.
PLAN_HEARTBEAT_TIMEOUT = int(os.environ.get("FIELDSVC_PLAN_HEARTBEAT_TIMEOUT", "300"))


def secret_key(var_dir: Path = VAR_DIR) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url() -> str:
    """DATABASE_URL, else the embedded SQLite database in var/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'fieldsvc.sqlite'}"


#: Where plan runs started from the web are solved: "thread" (a background thread of the web
#: process, the one-process demo) or "queue" (the web only queues them; `fieldsvc scheduler` or
#: `fieldsvc worker` solves them, so they survive a web worker's restart).
PLAN_RUNNERS = ("thread", "queue")


def plan_runner() -> str:
    """FIELDSVC_PLAN_RUNNER, checked (a typo is an error naming the variable and the choices)."""
    value = os.environ.get("FIELDSVC_PLAN_RUNNER", "thread").strip().lower()
    if value not in PLAN_RUNNERS:
        raise ValueError(f"FIELDSVC_PLAN_RUNNER must be one of {', '.join(PLAN_RUNNERS)}, got {value!r}")
    return value


class Config:
    """Flask configuration; every value can be overridden by `create_app(overrides)`."""

    def __init__(self) -> None:
        self.SECRET_KEY = secret_key()
        self.SQLALCHEMY_DATABASE_URI = database_url()
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.TIMEZONE = TIMEZONE
        self.BABEL_DEFAULT_LOCALE = os.environ.get("FIELDSVC_LANG", "fa")
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.LANGUAGES = ("fa", "en")
        self.UPLOAD_DIR = str(Path(os.environ.get("FIELDSVC_UPLOAD_DIR", VAR_DIR / "uploads")))
        self.OUTBOX_DIR = str(Path(os.environ.get("FIELDSVC_OUTBOX_DIR", VAR_DIR / "outbox")))
        self.MAX_CONTENT_LENGTH = 16 * 1024 * 1024
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("FIELDSVC_HTTPS", "") == "1"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None
        # memory:// holds per process; redis://host:6379/N is shared by every worker and machine
        self.RATELIMIT_STORAGE_URI = os.environ.get("FIELDSVC_RATELIMIT_STORAGE", "memory://")
        self.RATELIMIT_KEY_PREFIX = os.environ.get("FIELDSVC_RATELIMIT_PREFIX", "fieldsvc")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.SMTP_HOST = os.environ.get("FIELDSVC_SMTP_HOST", "")
        self.SMTP_PORT = int(os.environ.get("FIELDSVC_SMTP_PORT", "25"))
        self.SMTP_USER = os.environ.get("FIELDSVC_SMTP_USER", "")
        self.SMTP_PASSWORD = os.environ.get("FIELDSVC_SMTP_PASSWORD", "")
        self.MAIL_FROM = os.environ.get("FIELDSVC_MAIL_FROM", "fieldsvc@localhost")
        self.PUBLIC_BASE_URL = os.environ.get("FIELDSVC_PUBLIC_URL", "http://127.0.0.1:5000")
        # intake channels (issue 23): the support mailbox (polled when IMAP_HOST is set), the support
        # phone told to unknown senders, and the SMS gateway ("file" outbox or "kavenegar" over HTTP)
        self.IMAP_HOST = os.environ.get("FIELDSVC_IMAP_HOST", "")
        self.IMAP_PORT = int(os.environ.get("FIELDSVC_IMAP_PORT", "993"))
        self.IMAP_USER = os.environ.get("FIELDSVC_IMAP_USER", "")
        self.IMAP_PASSWORD = os.environ.get("FIELDSVC_IMAP_PASSWORD", "")
        self.IMAP_SSL = os.environ.get("FIELDSVC_IMAP_SSL", "1") != "0"
        self.IMAP_FOLDER = os.environ.get("FIELDSVC_IMAP_FOLDER", "INBOX")
        self.SUPPORT_PHONE = os.environ.get("FIELDSVC_SUPPORT_PHONE", "")
        self.SMS_GATEWAY = os.environ.get("FIELDSVC_SMS_GATEWAY", "file")
        self.SMS_OUTBOX_DIR = os.environ.get("FIELDSVC_SMS_OUTBOX_DIR", "")  # "": OUTBOX_DIR/sms
        self.SMS_URL = os.environ.get("FIELDSVC_SMS_URL", "https://api.kavenegar.com/v1")
        self.SMS_API_KEY = os.environ.get("FIELDSVC_SMS_API_KEY", "")
        self.SMS_SENDER = os.environ.get("FIELDSVC_SMS_SENDER", "")
        self.NIGHTLY_PLAN_AT = os.environ.get("FIELDSVC_NIGHTLY_PLAN_AT", "22:00")
        self.DUE_REFRESH_AT = os.environ.get("FIELDSVC_DUE_REFRESH_AT", "02:00")
        # minutes before a call's deadline that its tier supervisor and dispatchers are alerted
        self.ALERT_BEFORE_BREACH_MINUTES = int(os.environ.get("FIELDSVC_ALERT_BEFORE_BREACH_MINUTES", "30"))
        self.PLAN_TIME_LIMIT = int(os.environ.get("FIELDSVC_PLAN_TIME_LIMIT", "30"))
        self.OSRM_URL = os.environ.get("FIELDSVC_OSRM_URL", "")
        # map tiles (fieldsvc.web.tiles): a URL template, or "none"; and the attribution it needs
        self.TILE_URL = os.environ.get("FIELDSVC_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        self.TILE_ATTRIBUTION = os.environ.get("FIELDSVC_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
        self.PLAN_RUNNER = plan_runner()
        self.PLAN_HEARTBEAT_TIMEOUT = PLAN_HEARTBEAT_TIMEOUT
        self.DASK_SCHEDULER = os.environ.get("FIELDSVC_DASK_SCHEDULER", "")
        self.API_TITLE = "fieldsvc API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.API_SPEC_OPTIONS = {"components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "telephonyToken": {"type": "apiKey", "in": "header", "name": "X-Telephony-Token"}}}}
        self.TOKEN_TTL_DAYS = int(os.environ.get("FIELDSVC_TOKEN_TTL_DAYS", "30"))
        #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted
        #: (0: none; the client address of rate limits and login locks is the socket's peer).
        self.PROXY_HOPS = int(os.environ.get("FIELDSVC_PROXY_HOPS", "0"))

"""One memoized factory that builds the backends from Settings, so pages never branch on ENV."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from assistant.auth.remember import SignInMemory, derive_key
from assistant.config import Settings
from assistant.db import get_engine
from assistant.sessions.base import SessionStore
from assistant.usage.pricing import PriceTable

if TYPE_CHECKING:  # imported lazily at runtime: the chat core pulls in strands, the client boto3
    from mypy_boto3_s3 import S3Client

    from assistant.chat import ChatService
    from assistant.context.calendar import CalendarService

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[str, SessionStore] = {}
_services: dict[str, ChatService] = {}
_s3_clients: dict[tuple[str | None, str], S3Client] = {}


def _key(settings: Settings) -> str:
    return settings.model_dump_json()


def get_s3_client(settings: Settings) -> S3Client:
    """One boto3 S3 client per process (per endpoint and region), shared by every session.

    Args:
        settings: The settings naming the region and the S3 endpoint (None for AWS).

    Returns:
        The shared client (three attempts per request, 3 s to connect, 10 s to read). A session's
        objects are small, so a read that waits 10 s for a byte is a stalled endpoint. botocore's
        ``max_attempts`` counts retries, not attempts: ``max_attempts: 3`` with 5 s + 20 s made
        four attempts, and a hung S3 kept a send on "Thinking…" for 100 s before the page could
        say so; ``total_max_attempts`` counts every attempt.
    """
    import boto3
    from botocore.config import Config

    key = (settings.s3_endpoint_url, settings.aws_region)
    with _lock:
        client = _s3_clients.get(key)
        if client is None:
            client = boto3.client(
                "s3",
                region_name=settings.aws_region,
                endpoint_url=settings.s3_endpoint_url,
                config=Config(
                    retries={"total_max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10
                ),
            )
            _s3_clients[key] = client
        return client


def bucket_problem(settings: Settings) -> str | None:
    """Why sessions cannot be stored in SESSIONS_BUCKET_NAME: S3 says it does not exist, or the
    replica has no AWS credentials at all (no role, no keys: every write would fail).

    None otherwise, including when S3 cannot tell: HeadBucket needs ``s3:ListBucket``, which a
    least-privilege policy may leave out (403), and a network error may pass.

    Args:
        settings: The settings naming the bucket (None at once without S3).

    Returns:
        One line naming the setting, or None.
    """
    if not settings.uses_s3:
        return None
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    try:
        get_s3_client(settings).head_bucket(Bucket=str(settings.sessions_bucket_name))
    except (NoCredentialsError, PartialCredentialsError, ProfileNotFound):
        return (
            f"SESSIONS_BUCKET_NAME={settings.sessions_bucket_name}: no AWS credentials found "
            "(give the replica its IAM role, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        )
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return f"SESSIONS_BUCKET_NAME={settings.sessions_bucket_name}: no such bucket"
    except BotoCoreError:
        pass
    return None


def build_store(settings: Settings) -> SessionStore:
    """Build (unmemoized) the session store the settings ask for, upgrading the schema first.

    Args:
        settings: The settings; a sessions bucket means S3 for conversations, else the SQL database.

    Returns:
        An :class:`~assistant.sessions.s3_store.S3SessionStore` or a
        :class:`~assistant.sessions.sql_store.SqlSessionStore`, both over DATABASE_URL.
    """
    from assistant.migrate import upgrade

    engine = get_engine(settings.database_url)
    upgrade(engine)
    if settings.uses_s3:
        from assistant.sessions.s3_store import S3SessionStore

        assert settings.sessions_bucket_name is not None
        logger.info("bucket=<%s> | using s3 session store", settings.sessions_bucket_name)
        return S3SessionStore(
            engine,
            client=get_s3_client(settings),
            bucket=settings.sessions_bucket_name,
            expiry_hours=settings.session_expiry_hours,
        )
    from assistant.sessions.sql_store import SqlSessionStore

    return SqlSessionStore(engine, expiry_hours=settings.session_expiry_hours)


def get_store(settings: Settings) -> SessionStore:
    """The process-wide session store for these settings (memoized).

    Args:
        settings: The settings; equal settings share one store.

    Returns:
        The store :func:`build_store` built for the first caller.
    """
    key = _key(settings)
    with _lock:
        store = _stores.get(key)
    if store is None:
        store = build_store(settings)
        with _lock:
            store = _stores.setdefault(key, store)
    return store


def get_prices(settings: Settings) -> PriceTable:
    """The price table (memoized per file and modification time by PriceTable.load).

    Args:
        settings: The settings naming the prices file.

    Returns:
        The price table.
    """
    return PriceTable.load(settings.resolved_prices_file)


def get_chat_service(settings: Settings) -> ChatService:
    """The process-wide ChatService for these settings (memoized; holds no per-user data).

    Args:
        settings: The settings; equal settings share one service (and one store).

    Returns:
        The chat service over :func:`get_store` and :func:`get_prices` for these settings.
    """
    from assistant.chat import ChatService

    key = _key(settings)
    with _lock:
        service = _services.get(key)
    if service is None:
        service = ChatService(settings, get_store(settings), prices=get_prices(settings))
        with _lock:
            service = _services.setdefault(key, service)
    return service


def built_chat_services() -> list[ChatService]:
    """The chat services this process has built so far (none before the first page or send)."""
    with _lock:
        return list(_services.values())


def get_calendar_service(settings: Settings) -> CalendarService:
    """Each user's calendar, read by the tools, the Prep queue and the CLI (the chat service's own)."""
    return get_chat_service(settings).calendar


def get_sign_in_memory(settings: Settings) -> SignInMemory | None:
    """The remembered-sign-in cookie service, or None (local dev login, or REMEMBER_SIGN_IN=false).

    Its signing key is SESSION_COOKIE_SECRET, else derived from the OAuth client secret, so
    every replica accepts the same cookie; revocations live in the shared SQL database.

    Args:
        settings: The settings.

    Returns:
        The sign-in memory, or None when sign-ins are not remembered.
    """
    if settings.is_local or not settings.remember_sign_in:
        return None
    secret = settings.session_cookie_secret or settings.google_client_secret
    if secret is None:
        return None
    get_store(settings)  # the schema (revoked_sign_ins) is migrated with the store
    return SignInMemory(
        get_engine(settings.database_url),
        derive_key(secret.get_secret_value()),
        max_age_hours=settings.identity_max_age_hours,
        deployment=settings.oauth_redirect_uri or "",
    )


def database_problem(settings: Settings, error: Exception) -> tuple[str, str]:
    """``DATABASE_URL`` with its password hidden, and the first line of why the database refused."""
    from sqlalchemy.engine import make_url

    address = make_url(settings.database_url).render_as_string(hide_password=True)
    reason = (str(getattr(error, "orig", None) or error).splitlines() or [""])[0][:300]
    return address, reason


def data_files_problem(settings: Settings) -> str | None:
    """One line naming the setting behind a data file the pages cannot read, or None when every one reads.

    The price table (PRICES_FILE), the meeting types (MEETING_TYPES_FILE) and the demo calendar,
    budget and big rocks (DATA_DIR), read as the pages read them: a replica or a release step
    (``db upgrade``) with a mistyped path is refused at start, not on every page once serving.

    Args:
        settings: The settings naming the files.

    Returns:
        The line :func:`unusable_setting` writes for the first file that cannot be read, or None.
    """
    from datetime import UTC, datetime

    from assistant.context.big_rocks import read_rock_entries
    from assistant.context.budget import read_budget_file
    from assistant.context.classify import MeetingTypesError, load_meeting_types
    from assistant.context.data_files import DataFileError
    from assistant.context.demo_calendar import load_meetings
    from assistant.usage.pricing import PriceTableError

    try:
        get_prices(settings)
        load_meeting_types(settings.resolved_meeting_types_file)
        read_budget_file(settings.data_dir)
        read_rock_entries(settings.data_dir)
        load_meetings(settings.data_dir, datetime.now(UTC))
    except (PriceTableError, MeetingTypesError, DataFileError) as e:
        return unusable_setting(settings, e)
    return None


def unusable_setting(settings: Settings, error: Exception) -> str | None:
    """One line naming the setting behind a database, bucket, price table or data file that cannot
    be used (the CLI's ``error:`` line, the page's "not configured correctly"); None for any other error."""
    from sqlalchemy.exc import DBAPIError

    from assistant.context.classify import MeetingTypesError
    from assistant.context.data_files import DataFileError
    from assistant.sessions.base import StorageUnavailableError
    from assistant.usage.pricing import PriceTableError

    if isinstance(error, DBAPIError):
        address, reason = database_problem(settings, error)
        return f"the database cannot be reached (DATABASE_URL={address}): {reason}"
    if isinstance(error, StorageUnavailableError):
        cause = error.__cause__
        code = getattr(cause, "response", {}).get("Error", {}).get("Code") if cause is not None else None
        where = f"{code or type(cause).__name__}: " if cause is not None else ""
        where += f"SESSIONS_BUCKET_NAME={settings.sessions_bucket_name}"
        if settings.s3_endpoint_url:
            where += f", S3_ENDPOINT_URL={settings.s3_endpoint_url}"
        return f"{error} ({where})"
    if isinstance(error, PriceTableError):
        return f"{error} (the price table: PRICES_FILE, by default DATA_DIR/prices.toml)"
    if isinstance(error, DataFileError):  # DATA_DIR set to a folder without the demo calendar, budget or big rocks
        return f"{error} (DATA_DIR={settings.data_dir})"
    if isinstance(error, MeetingTypesError):  # its message names the file and MEETING_TYPES_FILE
        return str(error)
    return None

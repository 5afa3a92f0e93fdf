"""The S3 side of the S3 session store: one JSON document per session, conditional writes, a small cache.

Layout: ``sessions/<quoted user id>/<session id>.json``. Every write is one conditional
``PutObject`` (``If-None-Match: *`` to create, ``If-Match`` the ETag this process holds to
update); a 412/409 is a :class:`~assistant.sessions.base.SessionConflictError` and
overwrites nothing, unless the object's ``write-id`` shows that this very PUT landed on an
earlier attempt. Reads are one ``GetObject``. The cache holds each document *as written or
read* (parsed from the bytes), never the caller's objects, which may be live agent state.

This module knows nothing of the SQL index; :mod:`assistant.sessions.s3_store` keeps the two
in step.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

from assistant import inputs
from assistant.sessions import jsonutil
from assistant.sessions.base import (
    SessionConflictError,
    SessionDamagedError,
    SessionNotFoundError,
    StorageUnavailableError,
    TurnRecord,
    _parse_dt,
)
from assistant.sessions.rows import CONFLICT_MESSAGE

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KEY_PREFIX = "sessions/"
CACHE_SIZE = 256
# The cached documents' stored size (JSON bytes; parsed, they take ~1.7x that in memory): 256
# long sessions held ~500 MB before this bound.
CACHE_BYTES = 32 * 1024 * 1024
LOCK_STRIPES = 64
WRITE_ID_META = "write-id"
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}

UNAVAILABLE_WRITE = "Session storage is unavailable; your last change was not saved. Try again in a moment."
UNAVAILABLE_READ = "Session storage is unavailable; the session could not be opened. Try again in a moment."
READ_DENIED = (
    "Storage refused to read this session (access denied), so it cannot be opened; its stored "
    "conversation may be missing. Other sessions are unaffected; ask your administrator."
)
DELETE_FAILED = "Session storage is unavailable; the session was not deleted. Try again in a moment."
DELETE_DENIED = (
    "This deployment's storage does not allow deleting sessions, so nothing was deleted. "
    "Ask your administrator to allow it."
)
DAMAGED_MESSAGE = "This session's stored conversation is damaged and cannot be opened. Other sessions are unaffected."
MISSING_MESSAGE = (
    "This session's stored conversation is missing from storage and cannot be opened. Other sessions are unaffected."
)


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if it can name a session object (:func:`assistant.inputs.validate_session_id`).

    Raises:
        SessionNotFoundError: The id cannot name any session (wrong characters or length).
    """
    valid = inputs.validate_session_id(session_id)
    if valid is None:
        raise SessionNotFoundError("That session was not found.")
    return valid


def object_key(user_id: str, session_id: str) -> str:
    """The S3 key of one session's document.

    The user id is percent-encoded (``:``, ``@``, ``/`` ... become ``%XX``), so every user
    has exactly one key prefix and no user id can reach another user's prefix.

    Args:
        user_id: Owner of the session (any non-empty string up to 255 characters).
        session_id: The session id (see :func:`validate_session_id`).

    Returns:
        ``sessions/<quoted user id>/<session id>.json``.
    """
    if not user_id or len(user_id) > 255:
        raise ValueError("A user id must be 1 to 255 characters long.")
    return f"{KEY_PREFIX}{quote(user_id, safe='')}/{validate_session_id(session_id)}.json"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_conflict(error: ClientError) -> bool:
    return _error_code(error) in _CONFLICT_CODES or _http_status(error) in (409, 412)


def _is_missing(error: ClientError) -> bool:
    return _error_code(error) in _MISSING_CODES or _http_status(error) == 404


@dataclass(frozen=True)
class StoredObject:
    """A session document as this process read or wrote it, with the ETag S3 gave it."""

    etag: str
    version: int
    body: dict[str, Any]
    size: int = 0  # the document's stored size in bytes (what the cache's byte bound counts)


class DamagedObjectError(SessionDamagedError):
    """A session object is missing or unreadable; ``reason`` is what the index records."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SessionObjects:
    """Session documents in one bucket, through the process's shared S3 client.

    Args:
        client: The process's shared boto3 S3 client.
        bucket: Bucket holding the session objects.
        cache_size: How many documents to keep in memory (least recently used go first).
        cache_bytes: At most how many bytes of stored documents to keep (the most recent one is
            kept whatever its size).
    """

    def __init__(
        self, client: Any, bucket: str, *, cache_size: int = CACHE_SIZE, cache_bytes: int = CACHE_BYTES
    ) -> None:
        self.client = client
        self.bucket = bucket
        self._cache: collections.OrderedDict[str, StoredObject] = collections.OrderedDict()
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        self._cache_lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        # session id -> write-id of a PUT whose request was sent but whose answer never came
        # (read timeout, connection closed): S3 may still apply it after the client gave up
        self._unsure: dict[str, str] = {}

    # -- cache -----------------------------------------------------------------------
    def cache_get(self, session_id: str) -> StoredObject | None:
        with self._cache_lock:
            entry = self._cache.get(session_id)
            if entry is not None:
                self._cache.move_to_end(session_id)
            return entry

    def cache_put(self, session_id: str, entry: StoredObject) -> None:
        with self._cache_lock:
            old = self._cache.pop(session_id, None)
            self._cached_bytes += entry.size - (old.size if old is not None else 0)
            self._cache[session_id] = entry
            while len(self._cache) > 1 and (
                len(self._cache) > self._cache_size or self._cached_bytes > self._cache_bytes
            ):
                self._cached_bytes -= self._cache.popitem(last=False)[1].size

    def cache_drop(self, session_id: str) -> None:
        with self._cache_lock:
            old = self._cache.pop(session_id, None)
            if old is not None:
                self._cached_bytes -= old.size

    def cached_bytes(self) -> int:
        """The stored size of the documents the cache holds now."""
        with self._cache_lock:
            return self._cached_bytes

    def session_lock(self, session_id: str) -> threading.Lock:
        digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=2).digest()
        return self._stripes[int.from_bytes(digest, "big") % LOCK_STRIPES]

    # -- S3 I/O ----------------------------------------------------------------------
    def put(
        self, key: str, session_id: str, body: dict[str, Any], *, if_match: str | None = None, create: bool = False
    ) -> StoredObject:
        """One conditional PutObject; returns what to cache: the new ETag and the document as written.

        The cached document is parsed back from the bytes written, never ``body`` itself:
        ``body`` may reference live agent state (the snapshot's message list, raw bytes), and
        a cache sharing it would see a later failed turn's messages and hold values JSON
        cannot encode.
        """
        data = jsonutil.dumps(body).encode("utf-8")
        write_id = uuid.uuid4().hex
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": "application/json",
            "Metadata": {WRITE_ID_META: write_id},
        }
        if create:
            kwargs["IfNoneMatch"] = "*"
        elif if_match is not None:
            kwargs["IfMatch"] = if_match
        logger.debug(
            "session_id=<%s>, bucket=<%s>, bytes=<%s> | writing session object", session_id, self.bucket, len(data)
        )
        try:
            response = self.client.put_object(**kwargs)
        except ClientError as e:
            if _is_conflict(e) or (if_match is not None and _is_missing(e)):
                landed = self._own_write_landed(key, write_id)
                if landed is not None:
                    return StoredObject(landed, int(body["meta"]["version"]), json.loads(data), len(data))
                self.cache_drop(session_id)
                logger.warning(
                    "session_id=<%s>, bucket=<%s>, code=<%s> | session object changed elsewhere",
                    session_id,
                    self.bucket,
                    _error_code(e),
                )
                raise SessionConflictError(CONFLICT_MESSAGE) from e
            logger.error(
                "session_id=<%s>, bucket=<%s>, code=<%s> | session object write failed",
                session_id,
                self.bucket,
                _error_code(e),
            )
            raise StorageUnavailableError(UNAVAILABLE_WRITE) from e
        except BotoCoreError as e:
            logger.error(
                "session_id=<%s>, bucket=<%s>, error=<%s> | session object write failed",
                session_id,
                self.bucket,
                e.__class__.__name__,
            )
            if isinstance(e, (ReadTimeoutError, ConnectionClosedError)):
                # sent, outcome unknown: read the object again next time, and remember what to look for
                with self._cache_lock:
                    self._unsure[session_id] = write_id
                self.cache_drop(session_id)
            raise StorageUnavailableError(UNAVAILABLE_WRITE) from e
        return StoredObject(str(response["ETag"]), int(body["meta"]["version"]), json.loads(data), len(data))

    def _own_write_landed(self, key: str, write_id: str) -> str | None:
        """After a 412: did an earlier attempt of this very PUT land (a retried request)?

        botocore retries a PUT whose response was lost; the retry then fails its own
        precondition. The object's ``write-id`` metadata tells the two cases apart.
        """
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError):
            return None
        if (head.get("Metadata") or {}).get(WRITE_ID_META) == write_id:
            logger.info("bucket=<%s>, key=<%s> | retried write had already landed", self.bucket, key)
            return str(head["ETag"])
        return None

    def delete(self, key: str, session_id: str) -> None:
        """One DeleteObject (a missing object is deleted already). A refusal by the bucket's or
        the role's policy says so: "try again" never helps there."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            code = _error_code(e) if isinstance(e, ClientError) else e.__class__.__name__
            denied = code == "AccessDenied"
            logger.error(
                "session_id=<%s>, bucket=<%s>, code=<%s> | session object delete failed%s",
                session_id,
                self.bucket,
                code,
                " (the role needs s3:DeleteObject)" if denied else "",
            )
            raise StorageUnavailableError(DELETE_DENIED if denied else DELETE_FAILED) from e

    def is_missing(self, key: str) -> bool:
        """Whether S3 says the object does not exist (one HeadObject; an error that says nothing is False)."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            return _is_missing(e)
        except BotoCoreError:
            return False
        return False

    def has_unsure_write(self, session_id: str) -> bool:
        """Whether a PUT of this session timed out here and is not settled yet (no S3 request)."""
        with self._cache_lock:
            return session_id in self._unsure

    def unsure_write_landed(self, key: str, session_id: str) -> bool:
        """Whether a PUT of this session that timed out here was applied by S3 after all (forgets it)."""
        with self._cache_lock:
            write_id = self._unsure.pop(session_id, None)
        return write_id is not None and self._own_write_landed(key, write_id) is not None

    def get(self, key: str, session_id: str) -> StoredObject:
        """One GetObject; returns the parsed document with its ETag and size."""
        logger.debug("session_id=<%s>, bucket=<%s> | reading session object", session_id, self.bucket)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            raw = response["Body"].read()
        except ClientError as e:
            if _is_missing(e):
                logger.error("session_id=<%s>, bucket=<%s> | session object is missing", session_id, self.bucket)
                raise DamagedObjectError(MISSING_MESSAGE, reason="object missing") from e
            denied = _error_code(e) == "AccessDenied"
            logger.error(
                "session_id=<%s>, bucket=<%s>, code=<%s> | session object read failed%s",
                session_id,
                self.bucket,
                _error_code(e),
                " (without s3:ListBucket a missing object reads as AccessDenied)" if denied else "",
            )
            raise StorageUnavailableError(READ_DENIED if denied else UNAVAILABLE_READ) from e
        except BotoCoreError as e:
            logger.error(
                "session_id=<%s>, bucket=<%s>, error=<%s> | session object read failed",
                session_id,
                self.bucket,
                e.__class__.__name__,
            )
            raise StorageUnavailableError(UNAVAILABLE_READ) from e
        try:
            body = self.parse(raw, session_id)
        except SessionDamagedError as e:
            raise DamagedObjectError(str(e), reason="object unreadable") from e
        return StoredObject(str(response["ETag"]), int(body["meta"]["version"]), body, len(raw))

    @staticmethod
    def parse(raw: bytes, session_id: str | None) -> dict[str, Any]:
        """Parse and check a session document (raises SessionDamagedError)."""
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or body.get("schema") != SCHEMA_VERSION:
                raise ValueError(f"unknown document schema {body.get('schema') if isinstance(body, dict) else None}")
            meta = body["meta"]
            if session_id is not None and meta["id"] != session_id:
                raise ValueError("document belongs to another session")
            if not isinstance(body.get("messages"), list) or not isinstance(body.get("turns"), list):
                raise ValueError("messages and turns must be lists")
            for key in ("user_id", "title", "state", "created_at", "updated_at", "model", "version"):
                if key not in meta:
                    raise ValueError(f"meta.{key} is missing")
            int(meta["version"])
            _parse_dt(meta["created_at"])
            _parse_dt(meta["updated_at"])
            for t in body["turns"]:
                TurnRecord.from_dict(t)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            logger.error("session_id=<%s>, error=<%s> | session object is damaged", session_id, str(e)[:200])
            raise SessionDamagedError(DAMAGED_MESSAGE) from e
        return body

    def iter_keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=KEY_PREFIX):
            for item in page.get("Contents", []) or []:
                key = str(item["Key"])
                if key.endswith(".json"):
                    yield key

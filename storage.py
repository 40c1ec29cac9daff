"""Where uploaded files and generated documents live. One interface, two places:

- `LocalStorage`, a folder (`FORMDESK_UPLOAD_DIR`, `uploads/` by default): the embedded default,
  for one machine;
- `S3Storage`, a bucket in an S3-compatible object store (AWS S3, MinIO, Ceph, …), for several
  machines that must all read what any of them stored.

`get_storage()` picks one by configuration (`FORMDESK_STORAGE` = `local` | `s3`). Every place
offers the same three operations: `save(stream) -> name` (a new random name, never reused),
`open(name) -> readable binary stream` (`FileNotFoundError` when there is no such file) and
`delete(name)` (nothing happens when there is no such file). Names are only ever those that
`new_name` made: anything else is refused with `ValueError`, so no name can reach outside the
folder or the key prefix."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    from collections.abc import Mapping

KINDS = ("local", "s3")
# What S3 accepts as `ServerSideEncryption`; None stores objects as the bucket's default says.
SERVER_SIDE_ENCRYPTIONS = (None, "AES256", "aws:kms", "aws:kms:dsse")
MAX_NAME_LENGTH = 80  # the storage_name columns


class Storage(Protocol):
    def save(self, stream: BinaryIO) -> str: ...

    def open(self, name: str) -> BinaryIO: ...

    def delete(self, name: str) -> None: ...


def new_name() -> str:
    return secrets.token_hex(20)


def checked_name(name: str) -> str:
    """`name` when it is one `new_name` could have made (ASCII letters and digits only), else
    ValueError: no slash, dot, backslash or other character that could change the path or key."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_NAME_LENGTH
        or not name.isascii()
        or not name.isalnum()
    ):
        raise ValueError("invalid storage name")
    return name


class LocalStorage:
    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        name = checked_name(name)
        return self.root / name[:2] / name

    def save(self, stream: BinaryIO) -> str:
        name = new_name()
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as target:
            while chunk := stream.read(1024 * 1024):
                target.write(chunk)
        return name

    def open(self, name: str) -> BinaryIO:
        return self._path(name).open("rb")

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)


class S3Storage:
    """Objects named `<prefix><name>` in one bucket. `open` returns botocore's StreamingBody:
    the object is streamed to the caller (a download is never held whole in memory)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        server_side_encryption: str | None = None,
        kms_key_id: str | None = None,
    ):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.extra_args: dict[str, str] = {}
        if server_side_encryption:
            self.extra_args["ServerSideEncryption"] = server_side_encryption
        if kms_key_id:
            self.extra_args["SSEKMSKeyId"] = kms_key_id

    def key(self, name: str) -> str:
        return self.prefix + checked_name(name)

    def save(self, stream: BinaryIO) -> str:
        from boto3.s3.transfer import TransferConfig

        name = new_name()
        # One PUT up to 8 MB, multipart above; parts one after another in this thread (no
        # thread pool per upload inside a web worker).
        self.client.upload_fileobj(
            stream,
            self.bucket,
            self.key(name),
            ExtraArgs=dict(self.extra_args) or None,
            Config=TransferConfig(use_threads=False),
        )
        return name

    def open(self, name: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        key = self.key(name)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(f"no stored file {name}") from None
            raise
        return response["Body"]

    def delete(self, name: str) -> None:
        # S3 answers 204 whether or not the object existed.
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))


# --- configuration --------------------------------------------------------------------------


def _settings(config: Mapping[str, Any]) -> tuple:
    def text(key: str) -> str | None:
        value = config.get(key)
        return None if value in (None, "") else str(value)

    return (
        (text("FORMDESK_STORAGE") or "local").lower(),
        text("FORMDESK_UPLOAD_DIR"),
        text("FORMDESK_S3_BUCKET"),
        text("FORMDESK_S3_ENDPOINT_URL"),
        text("FORMDESK_S3_REGION"),
        text("FORMDESK_S3_PREFIX") or "",
        text("FORMDESK_S3_SERVER_SIDE_ENCRYPTION"),
        text("FORMDESK_S3_SSE_KMS_KEY_ID"),
    )


def configuration_problem(config: Mapping[str, Any]) -> str | None:
    """What is wrong with the storage settings, in words for the operator; None when fine."""
    kind, upload_dir, bucket, _endpoint, _region, prefix, sse, kms_key = _settings(config)
    if kind not in KINDS:
        return f"FORMDESK_STORAGE must be one of {', '.join(KINDS)}, not {kind!r}"
    if kind == "local":
        return None if upload_dir else "FORMDESK_UPLOAD_DIR is not set"
    if not bucket:
        return "FORMDESK_STORAGE=s3 needs FORMDESK_S3_BUCKET"
    if prefix.startswith("/") or ".." in prefix.split("/"):
        return "FORMDESK_S3_PREFIX must not start with / nor contain .."
    if sse not in SERVER_SIDE_ENCRYPTIONS:
        allowed = ", ".join(s for s in SERVER_SIDE_ENCRYPTIONS if s)
        return f"FORMDESK_S3_SERVER_SIDE_ENCRYPTION must be one of {allowed}, not {sse!r}"
    if kms_key and not (sse or "").startswith("aws:kms"):
        return "FORMDESK_S3_SSE_KMS_KEY_ID needs FORMDESK_S3_SERVER_SIDE_ENCRYPTION=aws:kms"
    try:
        import boto3  # noqa: F401
    except ImportError:
        return "FORMDESK_STORAGE=s3 needs boto3 (pip install -r requirements.txt)"
    return None


def check_configuration(app: Flask) -> None:
    """At start: a storage that cannot work stops the service here, not at the first upload."""
    if problem := configuration_problem(app.config):
        raise RuntimeError(problem)


def s3_client(endpoint_url: str | None, region: str | None) -> Any:
    """A client for the bucket. Credentials come from boto3's usual chain: AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), AWS_PROFILE and the shared files, or the role
    of the machine or container. They are never part of Formdesk's configuration."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(
            signature_version="s3v4",
            # MinIO and most other S3-compatible stores expect bucket names in the path.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def _make(settings: tuple) -> Storage:
    kind, upload_dir, bucket, endpoint, region, prefix, sse, kms_key = settings
    if kind == "s3":
        return S3Storage(s3_client(endpoint, region), bucket, prefix, sse, kms_key)
    return LocalStorage(upload_dir)


def get_storage() -> Storage:
    """The configured storage of the current app. Made once per app and process (a boto3
    client keeps its connection pool; it is not carried across a fork), and again when the
    configuration changes."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = _settings(app.config)
    key = (os.getpid(), settings)
    cached = app.extensions.get("formdesk_storage")
    if cached is not None and cached[0] == key:
        return cached[1]
    if problem := configuration_problem(app.config):
        raise RuntimeError(problem)
    storage = _make(settings)
    app.extensions["formdesk_storage"] = (key, storage)
    return storage

"""Storage of uploaded files and documents: one contract, kept by the local folder and by an
S3-compatible bucket (a real moto server process, spoken to over HTTP by boto3); the app
configured for S3 keeps uploads and documents there and serves the same bytes back."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import need

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MB = 1024 * 1024
REGION = "eu-north-1"


# --- a real S3-compatible server --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def aws_environment():
    """Credentials the way deployments give them (environment variables), and nothing from
    the developer's ~/.aws or an instance metadata service."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "formdesk-test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "formdesk-test-secret")
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="session")
def s3_endpoint(aws_environment, tmp_path_factory):
    """`python -m moto.server` in its own process on a free port, for this test process."""
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as missing:
        need(False, f"boto3 and moto[server] are needed: {missing}")
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the moto server did not start; see {log.name}")
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def bucket(s3_endpoint):
    """A new empty bucket for the test, and a client to look into it."""
    from storage import s3_client

    client = s3_client(s3_endpoint, REGION)
    name = f"formdesk-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name, client


def objects(client, bucket_name: str) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=bucket_name).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=bucket_name, Key=item["Key"])["Body"].read()
        for item in listing
    }


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.service)])  # moto
def storage(request, tmp_path):
    from storage import LocalStorage, S3Storage

    if request.param == "local":
        return LocalStorage(str(tmp_path / "uploads"))
    name, client = request.getfixturevalue("bucket")
    return S3Storage(client, name, prefix="files/")


# --- the contract, for every kind of storage ------------------------------------------------


def test_save_gives_a_new_random_name_and_open_gives_the_same_bytes(storage):
    first = storage.save(io.BytesIO(PDF))
    second = storage.save(io.BytesIO(PDF))
    assert first != second
    for name in (first, second):
        assert len(name) == 40 and name.isascii() and name.isalnum()
        with storage.open(name) as stream:
            assert stream.read() == PDF


def test_a_stream_is_read_in_pieces_and_an_empty_file_is_kept(storage):
    data = bytes(range(256)) * 4096  # 1 MB
    name = storage.save(io.BytesIO(data))
    with storage.open(name) as stream:
        pieces = []
        while piece := stream.read(64 * 1024):
            pieces.append(piece)
    assert b"".join(pieces) == data and len(pieces) >= 16
    empty = storage.save(io.BytesIO(b""))
    with storage.open(empty) as stream:
        assert stream.read() == b""


def test_a_file_larger_than_one_upload_part_comes_back_whole(storage):
    """Above 8 MB boto3 uploads in parts; the local folder copies in 1 MB pieces."""
    data = os.urandom(9 * MB)
    name = storage.save(io.BytesIO(data))
    with storage.open(name) as stream:
        assert stream.read() == data


def test_open_of_an_unknown_or_deleted_name_is_file_not_found(storage):
    name = storage.save(io.BytesIO(b"short-lived"))
    storage.delete(name)
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.open("0" * 40)
    storage.delete(name)  # deleting again, or what never existed, is not an error
    storage.delete("f" * 40)


def test_deleting_one_file_keeps_the_others(storage):
    kept, dropped = storage.save(io.BytesIO(b"kept")), storage.save(io.BytesIO(b"dropped"))
    storage.delete(dropped)
    with storage.open(kept) as stream:
        assert stream.read() == b"kept"


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../etc/passwd",
        "..%2Fsecret",
        "a/b",
        "/absolute",
        "a\\b",
        "name with space",
        "name\x00",
        "ab?versionId=1",
        "łódź",
        "١٢٣",  # digits, but not ASCII ones
        "a" * 81,
    ],
)
def test_names_that_new_name_never_makes_are_refused(storage, name):
    for operation in (storage.open, storage.delete):
        with pytest.raises(ValueError, match="invalid storage name"):
            operation(name)


# --- S3 specifics ----------------------------------------------------------------------------


def test_objects_are_kept_under_the_prefix_with_nothing_else_in_the_bucket(bucket):
    from storage import S3Storage

    name, client = bucket
    storage = S3Storage(client, name, prefix="formdesk/")
    stored = storage.save(io.BytesIO(PDF))
    assert objects(client, name) == {f"formdesk/{stored}": PDF}
    storage.delete(stored)
    assert objects(client, name) == {}


def test_server_side_encryption_is_asked_for_when_configured(bucket):
    from storage import S3Storage

    name, client = bucket
    plain = S3Storage(client, name).save(io.BytesIO(b"plain"))
    encrypted = S3Storage(client, name, server_side_encryption="AES256").save(io.BytesIO(b"x"))
    assert "ServerSideEncryption" not in client.head_object(Bucket=name, Key=plain)
    assert client.head_object(Bucket=name, Key=encrypted)["ServerSideEncryption"] == "AES256"


def test_other_s3_errors_are_not_mistaken_for_a_missing_file(s3_endpoint):
    from botocore.exceptions import ClientError

    from storage import S3Storage, s3_client

    storage = S3Storage(s3_client(s3_endpoint, REGION), "no-such-bucket-formdesk")
    with pytest.raises(ClientError):
        storage.save(io.BytesIO(b"x"))


# --- configuration ---------------------------------------------------------------------------


def s3_settings(endpoint: str, bucket_name: str, **extra) -> dict:
    return {
        "FORMDESK_STORAGE": "s3",
        "FORMDESK_S3_BUCKET": bucket_name,
        "FORMDESK_S3_ENDPOINT_URL": endpoint,
        "FORMDESK_S3_REGION": REGION,
        **extra,
    }


@pytest.fixture
def s3_app(app, s3_endpoint, bucket, tmp_path, monkeypatch):
    """The test app configured for S3, with an empty local folder that must stay empty."""
    name, _client = bucket
    for key, value in s3_settings(s3_endpoint, name, FORMDESK_S3_PREFIX="formdesk/").items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "FORMDESK_UPLOAD_DIR", str(tmp_path / "local"))
    return app


def test_get_storage_follows_the_configuration_and_keeps_one_client(app, s3_app, bucket):
    from storage import S3Storage, get_storage

    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, S3Storage)
        assert storage.bucket == bucket[0] and storage.prefix == "formdesk/"
        assert get_storage() is storage  # the client and its connections are reused
        app.config["FORMDESK_S3_PREFIX"] = "other/"
        assert get_storage().prefix == "other/"  # a changed configuration is followed


def test_the_local_folder_is_the_default(app):
    from storage import LocalStorage, get_storage

    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, LocalStorage)
        assert storage.root == Path(app.config["FORMDESK_UPLOAD_DIR"])


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"FORMDESK_STORAGE": "ftp"}, "FORMDESK_STORAGE must be one of local, s3"),
        ({"FORMDESK_STORAGE": "s3"}, "needs FORMDESK_S3_BUCKET"),
        (
            {"FORMDESK_STORAGE": "s3", "FORMDESK_S3_BUCKET": "b", "FORMDESK_S3_PREFIX": "../x/"},
            "FORMDESK_S3_PREFIX",
        ),
        (
            {
                "FORMDESK_STORAGE": "s3",
                "FORMDESK_S3_BUCKET": "b",
                "FORMDESK_S3_SERVER_SIDE_ENCRYPTION": "rot13",
            },
            "must be one of AES256, aws:kms",
        ),
        (
            {
                "FORMDESK_STORAGE": "s3",
                "FORMDESK_S3_BUCKET": "b",
                "FORMDESK_S3_SSE_KMS_KEY_ID": "k",
            },
            "needs FORMDESK_S3_SERVER_SIDE_ENCRYPTION=aws:kms",
        ),
    ],
)
def test_a_storage_that_cannot_work_stops_the_start(settings, problem, tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=problem):
        create_app(
            {
                "TESTING": True,
                "FORMDESK_AUTO_MIGRATE": False,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                **settings,
            }
        )


def test_s3_settings_come_from_flask_environment_variables(
    s3_endpoint, bucket, tmp_path, monkeypatch
):
    from app import create_app
    from storage import S3Storage, get_storage

    monkeypatch.setenv("FORMDESK_INSTANCE_PATH", str(tmp_path))
    for key, value in s3_settings(s3_endpoint, bucket[0]).items():
        monkeypatch.setenv(f"FLASK_{key}", value)
    monkeypatch.setenv("FLASK_FORMDESK_S3_SERVER_SIDE_ENCRYPTION", "AES256")
    application = create_app(
        {
            "TESTING": True,
            "FORMDESK_AUTO_MIGRATE": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
        }
    )
    with application.app_context():
        storage = get_storage()
        assert isinstance(storage, S3Storage)
        name = storage.save(io.BytesIO(b"from the environment"))
    head = bucket[1].head_object(Bucket=bucket[0], Key=name)
    assert head["ServerSideEncryption"] == "AES256"


# --- the app on S3, end to end -----------------------------------------------------------------


def test_uploads_and_documents_live_in_the_bucket_and_download_unchanged(
    s3_app, bucket, create_form
):
    from extensions import db
    from models import Attachment, Document, Submission
    from tests.definitions import base
    from tests.test_applicant import PAGES, apply, person
    from tests.test_dashboard_list import signed_in, staff

    app = s3_app
    bucket_name, client = bucket
    create_form(base("review", PAGES, workflow="application-review"))
    cv = b"%PDF-1.7\n" + os.urandom(200_000) + b"\n%%EOF\n"
    token, submission_id = apply(app, "review", person("Ada", cv=(io.BytesIO(cv), "ada-cv.pdf")))

    with app.app_context():
        attachment = db.session.query(Attachment).one()
        attachment_id, stored = attachment.id, attachment.storage_name
    assert objects(client, bucket_name) == {f"formdesk/{stored}": cv}

    applicant = app.test_client()
    response = applicant.get(f"/s/{token}/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == cv
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    reviewer = signed_in(app, staff(app, "rita@example.org", "call_manager", "review"))
    url = f"/dashboard/submissions/{submission_id}/attachments/{attachment_id}"
    response = reviewer.client.get(url)
    assert response.status_code == 200 and response.data == cv
    assert response.headers["Content-Disposition"].startswith("attachment;")

    from documents.store import make_copies, read

    with app.app_context():
        made = make_copies(db.session.get(Submission, submission_id))
        assert sorted(d.kind for d in made) == ["copy_docx", "copy_pdf"]
        documents = {d.kind: (d.storage_name, read(d)) for d in db.session.query(Document)}
    in_bucket = objects(client, bucket_name)
    for kind, (name, data) in documents.items():
        assert in_bucket[f"formdesk/{name}"] == data, kind
    assert documents["copy_pdf"][1].startswith(b"%PDF")
    response = applicant.get(f"/s/{token}/documents/copy_pdf")
    assert response.status_code == 200 and response.data == documents["copy_pdf"][1]

    # A file gone from the bucket is a plain 404, not an error page.
    client.delete_object(Bucket=bucket_name, Key=f"formdesk/{stored}")
    assert applicant.get(f"/s/{token}/attachments/{attachment_id}").status_code == 404
    # Nothing was written to the local folder.
    local = Path(app.config["FORMDESK_UPLOAD_DIR"])
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*"))


def test_a_removed_upload_is_deleted_from_the_bucket(s3_app, bucket, create_form):
    from tests.conftest import FormClient
    from tests.definitions import base
    from tests.test_applicant import PAGES
    from tests.test_uploads import send_page

    bucket_name, client = bucket
    create_form(base("review", PAGES, workflow="application-review"))
    browser = FormClient(s3_app.test_client())
    first = {"name": "Ada", "email": "ada@example.org", "cv": (io.BytesIO(PDF), "one.pdf")}
    assert send_page(browser, first, slug="review").status_code == 302
    [(key, data)] = objects(client, bucket_name).items()
    assert data == PDF
    replacement = PDF + b"% second\n"
    second = {"name": "Ada", "email": "ada@example.org", "cv": (io.BytesIO(replacement), "2.pdf")}
    assert send_page(browser, second, slug="review").status_code == 302
    remaining = objects(client, bucket_name)
    assert key not in remaining and list(remaining.values()) == [replacement]


def test_the_health_check_writes_reads_and_deletes_in_the_bucket(s3_app, bucket):
    response = s3_app.test_client().get("/healthz")
    assert response.json["checks"]["storage"] == "ok"
    assert objects(bucket[1], bucket[0]) == {}

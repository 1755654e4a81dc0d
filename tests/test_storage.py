"""File storage: the same behaviour from the local folder and from S3 (moto's server on loopback),
keys that cannot escape, and files kept in step with the database transaction."""

from __future__ import annotations

import os

import boto3
import pytest

from shared.extensions import db
from shared.storage import (
    BadKey,
    FileMissing,
    StorageError,
    check_key,
    delete_after_commit,
    discard_on_rollback,
    storage,
    storage_for,
    tenant_key,
)
from shared.storage.local import LocalStorage
from shared.storage.s3 import S3Storage

BUCKET = "arportal-test"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 in server mode on 127.0.0.1 and a free port: boto3 talks HTTP to it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_endpoint(s3_server, monkeypatch):
    """The server's address, with fake credentials and an empty bucket for this test."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    if any(b["Name"] == BUCKET for b in client.list_buckets().get("Buckets", [])):
        listing = client.list_objects_v2(Bucket=BUCKET)
        for item in listing.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    else:
        client.create_bucket(Bucket=BUCKET)
    return s3_server


def bucket_keys(endpoint: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture(params=["local", "s3"])
def backend(request, tmp_path):
    if request.param == "local":
        return storage_for(f"file://{tmp_path / 'files'}")
    endpoint = request.getfixturevalue("s3_endpoint")
    return storage_for(f"s3://{BUCKET}/app-files", s3_endpoint_url=endpoint)


def test_storage_for_picks_the_backend(tmp_path):
    assert isinstance(storage_for(f"file://{tmp_path}"), LocalStorage)
    local = storage_for(f"file://{tmp_path}")
    assert local.root == tmp_path.resolve()
    s3 = storage_for("s3://bucket/some/prefix", s3_endpoint_url="http://127.0.0.1:1")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "some/prefix/")
    assert s3.client.meta.region_name == "us-east-1"
    assert storage_for("s3://bucket", region="eu-west-1").client.meta.region_name == "eu-west-1"
    for bad in ("", "ftp://x/y", "s3://", "/plain/path"):
        with pytest.raises(StorageError):
            storage_for(bad)


def test_put_get_exists_delete(backend):
    key = tenant_key(7, "branding", "logo-0123456789abcdef.png")
    assert key == "tenants/7/branding/logo-0123456789abcdef.png"
    assert not backend.exists(key)
    with pytest.raises(FileMissing):
        backend.get(key)
    backend.put(key, b"\x89PNG first", "image/png")
    assert backend.exists(key)
    assert backend.get(key) == b"\x89PNG first"
    backend.put(key, b"second", "image/png")  # overwrites
    assert backend.get(key) == b"second"
    backend.delete(key)
    assert not backend.exists(key)
    backend.delete(key)  # deleting what is not there is not an error
    with pytest.raises(FileMissing):
        backend.get(key)


def test_tenants_files_do_not_mix(backend):
    backend.put(tenant_key(1, "a.txt"), b"one", "text/plain")
    backend.put(tenant_key(2, "a.txt"), b"two", "text/plain")
    assert backend.get(tenant_key(1, "a.txt")) == b"one"
    assert backend.get(tenant_key(2, "a.txt")) == b"two"


BAD_KEYS = [
    "",
    "../secret",
    "tenants/1/../2/logo.png",
    "tenants/1/..",
    "/etc/passwd",
    "tenants\\1\\logo.png",
    "tenants//1",
    "tenants/1/",
    ".hidden",
    "tenants/./1",
    "tenants/1/lo go.png",
    "tenants/1/%2e%2e",
    "tenants/1/logo\x00.png",
    "tenants/1/é.png",
    "a" * 600,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_escape_are_refused_by_every_operation(backend, key):
    with pytest.raises(BadKey):
        backend.put(key, b"x", "text/plain")
    with pytest.raises(BadKey):
        backend.get(key)
    with pytest.raises(BadKey):
        backend.exists(key)
    with pytest.raises(BadKey):
        backend.delete(key)


@pytest.mark.parametrize(
    "parts", [("..", "x"), ("/abs",), ("a\\b",), ("",), ("a/../../b",), ("x", "..")]
)
def test_tenant_key_refuses_traversal_in_its_parts(parts):
    with pytest.raises(BadKey):
        tenant_key(1, *parts)


@pytest.mark.parametrize("tenant_id", [0, -1, True, "1", None])
def test_tenant_key_needs_a_real_tenant_id(tenant_id):
    with pytest.raises(BadKey):
        tenant_key(tenant_id, "a.png")


def test_check_key_accepts_plain_paths():
    assert check_key("tenants/12/branding/logo-ab.png") == "tenants/12/branding/logo-ab.png"
    assert check_key("a_b-c.d") == "a_b-c.d"


def test_local_files_land_under_the_root_only(tmp_path):
    root = tmp_path / "files"
    backend = LocalStorage(root)
    backend.put("tenants/3/x.bin", b"data", "application/octet-stream")
    assert (root / "tenants/3/x.bin").read_bytes() == b"data"
    assert [p.name for p in (root / "tenants/3").iterdir()] == ["x.bin"]  # no temp file left


def test_a_symlink_inside_the_folder_cannot_lead_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    root = tmp_path / "files"
    (root / "tenants").mkdir(parents=True)
    os.symlink(outside, root / "tenants" / "1")
    backend = LocalStorage(root)
    with pytest.raises(BadKey):
        backend.get("tenants/1/secret.txt")
    with pytest.raises(BadKey):
        backend.put("tenants/1/new.txt", b"x", "text/plain")
    assert not (outside / "new.txt").exists()


def test_s3_objects_carry_the_prefix_and_the_content_type(s3_endpoint):
    backend = storage_for(f"s3://{BUCKET}/app-files", s3_endpoint_url=s3_endpoint)
    backend.put(tenant_key(5, "branding", "logo.png"), b"png", "image/png")
    assert bucket_keys(s3_endpoint) == ["app-files/tenants/5/branding/logo.png"]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    head = client.head_object(Bucket=BUCKET, Key="app-files/tenants/5/branding/logo.png")
    assert head["ContentType"] == "image/png"


def test_s3_unreachable_is_a_storage_error(monkeypatch):
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    backend = storage_for(f"s3://{BUCKET}", s3_endpoint_url=f"http://127.0.0.1:{port}")
    backend.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError):
        backend.get("tenants/1/a.png")
    with pytest.raises(StorageError):
        backend.put("tenants/1/a.png", b"x", "image/png")


def test_app_storage_follows_the_settings(make_app, s3_endpoint, tmp_path):
    app = make_app(STORAGE_URL=f"s3://{BUCKET}/pfx", STORAGE_S3_ENDPOINT_URL=s3_endpoint)
    with app.app_context():
        backend = storage()
        assert isinstance(backend, S3Storage)
        assert storage() is backend  # one per app
        backend.put("tenants/1/x.txt", b"x", "text/plain")
    assert bucket_keys(s3_endpoint) == ["pfx/tenants/1/x.txt"]
    local_app = make_app()
    with local_app.app_context():
        assert isinstance(storage(), LocalStorage)
        assert str(storage().root).startswith(local_app.config["INSTANCE_PATH"])


def test_files_follow_the_transaction(app):
    backend = storage()
    written = tenant_key(1, "written.bin")
    replaced = tenant_key(1, "replaced.bin")
    for key in (written, replaced):
        backend.put(key, b"x", "application/octet-stream")

    # Rolled back: the new file goes, the old one stays.
    discard_on_rollback(db.session(), written)
    delete_after_commit(db.session(), replaced)
    db.session.rollback()
    assert not backend.exists(written)
    assert backend.exists(replaced)

    # Committed: the new file stays, the old one goes.
    backend.put(written, b"x", "application/octet-stream")
    discard_on_rollback(db.session(), written)
    delete_after_commit(db.session(), replaced)
    db.session.commit()
    assert backend.exists(written)
    assert not backend.exists(replaced)

    # Nothing is remembered from one transaction to the next.
    db.session.rollback()
    assert backend.exists(written)

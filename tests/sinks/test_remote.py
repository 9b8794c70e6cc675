"""Results uploaded to object storage whole, or not at all (sinks/remote.py), against moto."""

from __future__ import annotations

import hashlib

import pytest

from zsync.errors import ConfigError, TransientError
from zsync.locations import inside, join, missing_backend, normal_url
from zsync.sinks.checks import ResultError
from zsync.sinks.remote import RemoteResultWriter, Storage

CSV = b"Id,Name\r\n1,Ann\r\n2,Bob\r\n"


def write_result(writer: RemoteResultWriter, *pages: bytes) -> None:
    for body in pages:
        page = writer.page()
        page.write(body)
        page.close()


def test_a_committed_result_is_uploaded_whole_and_scratch_is_emptied(s3, tmp_path) -> None:
    url = f"s3://{s3.bucket}/exports/crm/contacts.csv"
    writer = RemoteResultWriter(url, "csv", storage=Storage(), scratch=tmp_path)
    write_result(writer, CSV, b"Id,Name\r\n3,Cy\r\n")
    output = writer.commit()
    merged = CSV + b"3,Cy\r\n"
    assert s3.read("exports/crm/contacts.csv") == merged
    assert (output.path, output.bytes, output.rows, output.pages) == (url, len(merged), 3, 2)
    assert output.sha256 == hashlib.sha256(merged).hexdigest()
    assert list(tmp_path.iterdir()) == []
    assert Storage().digest(url) == output.sha256


def test_a_result_failing_its_checks_leaves_the_earlier_object_untouched(s3, tmp_path) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="out.csv", Body=b"old,file\r\n")
    writer = RemoteResultWriter(
        f"s3://{s3.bucket}/out.csv", "csv", storage=Storage(), scratch=tmp_path
    )
    page = writer.page()
    with pytest.raises(ResultError):
        page.write(b"Id,Name\r\n1,Ann,extra\r\n")
        page.close()
    writer.abort()
    assert s3.object_keys() == ["out.csv"]
    assert s3.read("out.csv") == b"old,file\r\n"
    assert s3.unfinished_uploads() == []
    assert list(tmp_path.iterdir()) == []


def test_a_big_result_goes_up_in_parts(s3, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("zsync.sinks.remote.CHUNK", 5 * 1024 * 1024)  # S3's smallest part
    url = f"s3://{s3.bucket}/big.csv"
    writer = RemoteResultWriter(url, "csv", storage=Storage(), scratch=tmp_path)
    row = b"1,%s\r\n" % (b"x" * 1000)
    body = b"Id,Name\r\n" + row * 12_000  # about 12 MiB: three parts
    write_result(writer, body)
    output = writer.commit()
    assert output.sha256 == hashlib.sha256(body).hexdigest()
    assert s3.read("big.csv") == body
    head = s3.client.head_object(Bucket=s3.bucket, Key="big.csv")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts parts


def test_pages_replace_an_earlier_longer_result_page_by_page(s3, tmp_path) -> None:
    for name in ("page-0001.csv", "page-0002.csv", "page-0003.csv"):
        s3.client.put_object(Bucket=s3.bucket, Key=f"pages/{name}", Body=b"old")
    url = f"s3://{s3.bucket}/pages"
    writer = RemoteResultWriter(url, "csv", storage=Storage(), scratch=tmp_path, per_page=True)
    write_result(writer, CSV, b"Id,Name\r\n3,Cy\r\n")
    output = writer.commit()
    assert s3.object_keys() == ["pages/page-0001.csv", "pages/page-0002.csv"]
    assert s3.read("pages/page-0002.csv") == b"Id,Name\r\n3,Cy\r\n"
    assert output.path == url
    assert Storage().digest(url) == output.sha256


def test_an_object_is_downloaded_to_a_private_file(s3, tmp_path) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="in/leads.csv", Body=CSV)
    local = tmp_path / "scratch" / "leads.csv"
    Storage().get(f"s3://{s3.bucket}/in/leads.csv", local)
    assert local.read_bytes() == CSV
    assert local.stat().st_mode & 0o777 == 0o600


def test_a_download_cut_short_is_not_taken_for_the_file(s3, tmp_path, monkeypatch) -> None:
    import s3fs

    body = CSV * 1000
    s3.client.put_object(Bucket=s3.bucket, Key="in/leads.csv", Body=body)
    fetch = s3fs.core.S3File._fetch_range

    def cut(self, start: int, end: int) -> bytes:  # type: ignore[no-untyped-def]
        return b"" if start >= len(body) // 2 else fetch(self, start, min(end, len(body) // 2))

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", cut)
    with pytest.raises(TransientError, match=rf"got {len(body) // 2} bytes of the {len(body)}"):
        Storage().get(f"s3://{s3.bucket}/in/leads.csv", tmp_path / "leads.csv")


def test_a_missing_object_or_bucket_is_the_configurations_to_fix(s3, tmp_path) -> None:
    with pytest.raises(ConfigError, match="reading s3://"):
        Storage().get(f"s3://{s3.bucket}/nothing.csv", tmp_path / "x.csv")
    assert Storage().digest(f"s3://{s3.bucket}/nothing.csv") is None


def test_an_unreachable_endpoint_is_a_clear_transient_error(tmp_path) -> None:
    pytest.importorskip("s3fs")
    storage = Storage(
        {
            "endpoint_url": "http://127.0.0.1:9",
            "key": "k",
            "secret": "s",
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
        }
    )
    source = tmp_path / "a.csv"
    source.write_bytes(CSV)
    with pytest.raises(TransientError, match=r"uploading to s3://b/a\.csv: .*127\.0\.0\.1:9"):
        storage.put(source, "s3://b/a.csv")


def test_an_upload_counts_only_once_the_store_shows_it_whole(s3, tmp_path, monkeypatch) -> None:
    # Another writer at the same key between the upload and the check: the store's size
    # isn't what was sent, and the result fails instead of passing as this one.
    import s3fs

    source = tmp_path / "a.csv"
    source.write_bytes(CSV)
    url = f"s3://{s3.bucket}/exports/a.csv"
    Storage().put(source, url)  # whole: nothing said
    uploaded = s3fs.S3FileSystem._put_file

    async def then_overwritten(self, lpath, rpath, **kwargs):  # type: ignore[no-untyped-def]
        await uploaded(self, lpath, rpath, **kwargs)
        s3.client.put_object(Bucket=s3.bucket, Key="exports/a.csv", Body=b"x")

    monkeypatch.setattr(s3fs.S3FileSystem, "_put_file", then_overwritten)
    s3fs.S3FileSystem.clear_instance_cache()  # its sync methods are bound when it is made
    try:
        with pytest.raises(TransientError, match=r"holds 1 bytes there, not the \d+ sent"):
            Storage().put(source, url)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


def test_an_upload_stands_where_the_policy_forbids_reading_it_back(s3, tmp_path, monkeypatch):
    # s3:PutObject without s3:GetObject: HeadObject answers 403 after the upload went in.
    import s3fs

    source = tmp_path / "a.csv"
    source.write_bytes(CSV)
    head = s3fs.S3FileSystem._info

    async def write_only(self, path, **kwargs):  # type: ignore[no-untyped-def]
        if path.endswith("a.csv"):
            raise PermissionError("Forbidden")
        return await head(self, path, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_info", write_only)
    s3fs.S3FileSystem.clear_instance_cache()  # its sync methods are bound when it is made
    try:
        Storage().put(source, f"s3://{s3.bucket}/exports/a.csv")
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
    assert s3.read("exports/a.csv") == CSV


def test_the_bucket_check_says_missing_and_lets_a_refusal_pass(s3, monkeypatch) -> None:
    Storage().check(f"s3://{s3.bucket}/exports")  # there: nothing said
    with pytest.raises(ConfigError, match=r"reaching s3://.*-gone/exports: FileNotFoundError"):
        Storage().check(f"s3://{s3.bucket}-gone/exports")

    # A policy that allows writing below a prefix but not HeadBucket: S3 answers 403, which
    # s3fs raises as PermissionError. The check can't tell, so it leaves it to the upload.
    import s3fs

    asked = []

    async def refused(self: object, path: str, **kwargs: object) -> dict[str, object]:
        asked.append(path)
        raise PermissionError("Forbidden")

    monkeypatch.setattr(s3fs.S3FileSystem, "_info", refused)
    s3fs.S3FileSystem.clear_instance_cache()  # its sync methods are bound when it is made
    try:
        Storage().check(f"s3://{s3.bucket}/exports")
    finally:
        s3fs.S3FileSystem.clear_instance_cache()  # no refusing instance for later tests
    assert asked == [s3.bucket]


def test_a_url_whose_package_is_missing_names_the_extra(monkeypatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert missing_backend("gs://bucket/x") is not None
    with pytest.raises(ConfigError, match=r"gcsfs.*pip install 'zoho-zsync\[gcs\]'"):
        Storage().filesystem("gs://bucket/x")


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("s3://bucket/a//b/./c/", "s3://bucket/a/b/c"),
        ("S3://bucket", "s3://bucket"),
        ("s3://bucket/a/../b", None),
        ("s3:///prefix", None),
        ("exports", None),
    ],
)
def test_urls_are_normalised_or_refused(url, normal) -> None:
    assert normal_url(url) == normal


def test_paths_below_a_url_stay_below_it() -> None:
    assert join("s3://b/exports", "crm/a.csv") == "s3://b/exports/crm/a.csv"
    assert join("s3://b/exports", "crm/../a.csv") == "s3://b/exports/a.csv"
    assert join("s3://b/exports", "../a.csv") is None
    assert join("s3://b/exports", "/etc/passwd") is None
    assert inside("s3://b/exports/crm/a.csv", "s3://b/exports") == "crm/a.csv"
    assert inside("s3://b/exports-other/a.csv", "s3://b/exports") is None

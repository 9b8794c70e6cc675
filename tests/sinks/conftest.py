"""A local S3 (moto's server on 127.0.0.1) for the object-storage tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

_buckets = itertools.count(1)


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: Any  # boto3's S3 client

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def object_keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def unfinished_uploads(self) -> list[Any]:
        return self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A fresh bucket, and the environment pointing s3fs at it (for this process)."""
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("s3fs")
    bucket = S3(s3_endpoint, f"bucket-{next(_buckets)}", None)
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    bucket.client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket.client.create_bucket(Bucket=bucket.bucket)
    return bucket

"""A local S3 (moto's server) with one empty bucket, for the object_storage scenario.

    python bench/s3_server.py BUCKET

Prints `http://127.0.0.1:PORT` once the bucket exists, then serves until terminated. In a
process of its own: moto keeps objects in its memory, which must not count as zsync's.
"""

from __future__ import annotations

import logging
import sys
import threading

import boto3
from moto.server import ThreadedMotoServer


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=sys.argv[1])
    print(endpoint, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()

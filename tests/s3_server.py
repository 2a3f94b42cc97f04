"""A real S3-API server on loopback for the tests (moto in server mode), one per session."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from cdc.snapshot.store import S3Settings

BUCKET = "cdc-snapshots"


@pytest.fixture(scope="session")
def s3_settings() -> Iterator[S3Settings]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings = S3Settings(endpoint_url=f"http://{host}:{port}", region="us-east-1",
                              access_key_id="test", secret_access_key="test", max_attempts=1)
        boto3.client("s3", endpoint_url=settings.endpoint_url, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test",
                     ).create_bucket(Bucket=BUCKET)
        yield settings
    finally:
        server.stop()

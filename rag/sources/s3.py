"""An S3-compatible bucket prefix, through boto3 (the one module importing it).

Endpoint, region and credentials come from the standard AWS variables and profiles
(AWS_ENDPOINT_URL, AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/config, ...), or from the spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

from rag.errors import RagError
from rag.ingest.loaders import is_supported
from rag.sources.base import Entry, SourceUnavailable


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket/prefix."""
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise RagError(f"{url!r} names no bucket; write s3://bucket/prefix")
    return bucket, prefix


class S3Source:
    """Objects under a bucket prefix; their token is the ETag the server gives."""

    def __init__(
        self,
        url: str,
        endpoint: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        client: Any = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._endpoint = endpoint
        self._client = client

    @property
    def location(self) -> str:
        """s3://bucket/prefix."""
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made on first use."""
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as error:
                raise RagError("S3 sources need boto3: pip install 'verbatim[sync]'") from error
            config = Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60
            )
            self._client = boto3.client("s3", endpoint_url=self._endpoint, config=config)
        return self._client

    @property
    def document_prefix(self) -> str:
        """Every object's stored name starts with s3://bucket/prefix."""
        return f"s3://{self.bucket}/{self.prefix}"

    def entries(self, known: Mapping[str, str]) -> Sequence[Entry]:
        """Every wanted object under the prefix (one listing request per 1,000 objects)."""
        found = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"]
                    name = PurePosixPath(key).name
                    if key.endswith("/") or not self.wanted(key, name):
                        continue
                    token = f"{item['ETag'].strip(chr(34))}:{item['Size']}"
                    found.append(Entry(key, token, f"s3://{self.bucket}/{key}", name))
        except Exception as error:
            raise SourceUnavailable(
                f"cannot list {self.location}: {error}; its documents are kept"
            ) from error
        return found

    def wanted(self, key: str, name: str) -> bool:
        """Whether a key passes the globs and is of a type the index reads."""
        relative = key.removeprefix(self.prefix).lstrip("/")
        if any(fnmatch(relative, pattern) or fnmatch(name, pattern) for pattern in self.exclude):
            return False
        if self.include and not any(fnmatch(relative, p) or fnmatch(name, p) for p in self.include):
            return False
        return is_supported(Path(name))

    def fetch(self, entry: Entry) -> bytes:
        """The object's bytes."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=entry.key)
            return bytes(response["Body"].read())
        except Exception as error:
            raise OSError(f"cannot read {entry.document}: {error}") from error

"""An S3-compatible bucket served by moto's real HTTP server on 127.0.0.1, changed through the S3 API."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

import rag
from eval.ports import listen_port
from rag.sources.config import spec_from_location
from rag.sources.runner import SyncOptions, sync_once
from rag.sources.sync import PassReport

pytestmark = pytest.mark.s3
boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1, credentials and endpoint in the standard AWS variables."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=listen_port(), verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    url = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield url
    # moto keeps its buckets in this process: empty them for the next test.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    server.stop()


@pytest.fixture
def bucket(endpoint: str) -> object:
    client = boto3.client("s3")
    client.create_bucket(Bucket="library")
    for number, word in enumerate(("granite", "marble", "basalt")):
        client.put_object(
            Bucket="library",
            Key=f"papers/p{number}.txt",
            Body=f"Paper {number} studies {word} quarries.".encode(),
        )
    client.put_object(Bucket="library", Key="other/skip.txt", Body=b"outside the prefix")
    return client


def sync(base: rag.KnowledgeBase, **options: object) -> PassReport:
    spec = spec_from_location("s3://library/papers/")
    return sync_once(base, [spec], SyncOptions(**options))[0]  # type: ignore[arg-type]


def test_bucket_prefix_is_ingested_under_s3_names(fake_base: rag.KnowledgeBase, bucket: object) -> None:
    report = sync(fake_base)
    assert report.added == 3 and not report.error
    assert fake_base.store.sources() == [f"s3://library/papers/p{number}.txt" for number in range(3)]
    assert fake_base.search("marble quarries", k=1)[0].source == "s3://library/papers/p1.txt"


def test_changes_through_the_s3_api_are_followed(fake_base: rag.KnowledgeBase, bucket: object) -> None:
    client = bucket
    sync(fake_base)
    assert sync(fake_base).unchanged == 3
    client.put_object(Bucket="library", Key="papers/p0.txt", Body=b"Paper 0 now studies slate.")  # type: ignore[attr-defined]
    client.copy_object(Bucket="library", Key="papers/moved.txt", CopySource="library/papers/p2.txt")  # type: ignore[attr-defined]
    client.delete_object(Bucket="library", Key="papers/p2.txt")  # type: ignore[attr-defined]
    client.delete_object(Bucket="library", Key="papers/p1.txt")  # type: ignore[attr-defined]
    report = sync(fake_base, allow_mass_delete=True)
    assert (report.updated, report.renamed, report.removed, report.added) == (1, 1, 1, 0)
    assert fake_base.store.sources() == ["s3://library/papers/moved.txt", "s3://library/papers/p0.txt"]
    assert "slate" in fake_base.document("s3://library/papers/p0.txt").text


def test_unreachable_bucket_keeps_its_documents(
    fake_base: rag.KnowledgeBase, bucket: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(fake_base)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    report = sync(fake_base)
    assert report.removed == 0 and "kept" in report.error
    assert len(fake_base.store.sources()) == 3

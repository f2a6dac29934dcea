"""``verify_checksum`` and ``ensure_data`` (``make data``): copy or download, checked, never a partial file left.

Downloads go to a one-connection HTTP server on 127.0.0.1 in a thread: no test leaves the machine.
"""
import contextlib
import hashlib
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import textsim.data
from textsim.data import DATA_FILE, DATA_SHA256, DataError, ensure_data, read_pairs, verify_checksum

REAL_SHARED = Path("/work/shared/data") / DATA_FILE
GOOD = {"sentence1": "今天天气很好", "sentence2": "今天天气不错", "label": "1"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_names(error: pytest.ExceptionInfo, path: Path):
    assert error.type is DataError
    assert str(path) in str(error.value)


# --- verify_checksum ---------------------------------------------------------------------------------------------

def test_verify_checksum_accepts_the_right_hash(write_jsonl):
    path = write_jsonl([GOOD])
    verify_checksum(path, sha256(path))  # no error


def test_verify_checksum_rejects_a_wrong_hash(write_jsonl):
    path = write_jsonl([GOOD])
    with pytest.raises(DataError) as caught:
        verify_checksum(path, "0" * 64)
    assert_names(caught, path)
    assert sha256(path) in str(caught.value) and "0" * 64 in str(caught.value)


def test_verify_checksum_defaults_to_the_data_hash(write_jsonl):
    path = write_jsonl([GOOD])
    with pytest.raises(DataError, match=DATA_SHA256):
        verify_checksum(path)


def test_verify_checksum_missing_file(tmp_path):
    with pytest.raises(DataError) as caught:
        verify_checksum(tmp_path / "absent.json", "0" * 64)
    assert_names(caught, tmp_path / "absent.json")


# --- ensure_data: copy from the shared folder --------------------------------------------------------------------

@pytest.fixture
def no_download(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("ensure_data tried to download")

    monkeypatch.setattr(textsim.data.urllib.request, "urlopen", refuse)


@pytest.fixture
def small_data(write_jsonl, monkeypatch):
    """A small pair file whose hash ``ensure_data`` and ``verify_checksum`` accept."""
    path = write_jsonl([GOOD, GOOD], name="shared_copy.json")
    monkeypatch.setattr(textsim.data, "DATA_SHA256", sha256(path))
    return path


def test_ensure_data_copies_the_shared_file(tmp_path, small_data, no_download):
    target = tmp_path / "data" / DATA_FILE
    assert ensure_data(target=target, shared=small_data, url="http://invalid.invalid/") == target
    assert target.read_bytes() == small_data.read_bytes()
    assert not target.with_suffix(".part").exists()


def test_ensure_data_keeps_a_good_target(tmp_path, small_data, no_download):
    target = tmp_path / DATA_FILE
    target.write_bytes(small_data.read_bytes())
    mtime = target.stat().st_mtime_ns
    assert ensure_data(target=target, shared=tmp_path / "absent.json") == target
    assert target.stat().st_mtime_ns == mtime


def test_ensure_data_rejects_a_corrupted_target(tmp_path, small_data, no_download):
    target = tmp_path / DATA_FILE
    target.write_bytes(small_data.read_bytes() + b"\n")
    with pytest.raises(DataError) as caught:
        ensure_data(target=target, shared=small_data)
    assert_names(caught, target)


def test_a_corrupted_shared_copy_is_named_and_no_part_file_is_left(tmp_path, small_data, no_download):
    shared = tmp_path / "shared" / DATA_FILE
    shared.parent.mkdir()
    shared.write_bytes(small_data.read_bytes().replace("今天".encode(), "明天".encode()))
    target = tmp_path / "data" / DATA_FILE
    with pytest.raises(DataError, match="sha256") as caught:
        ensure_data(target=target, shared=shared)
    assert_names(caught, shared)
    assert ".part" not in str(caught.value)
    assert not target.exists() and not target.with_suffix(".part").exists()


@pytest.mark.skipif(not REAL_SHARED.is_file(), reason="the shared data file is not on this machine")
def test_ensure_data_with_the_real_shared_file(tmp_path, no_download):
    target = tmp_path / "data" / DATA_FILE
    assert ensure_data(target=target, shared=REAL_SHARED) == target
    assert sha256(target) == DATA_SHA256
    rows = read_pairs(target)
    assert len(rows) == 10_000
    assert Counter(row["label"] for row in rows).keys() == {0, 1}

    corrupted = tmp_path / "corrupted" / DATA_FILE
    corrupted.parent.mkdir()
    corrupted.write_bytes(REAL_SHARED.read_bytes()[:-10])
    other_target = tmp_path / "other" / DATA_FILE
    with pytest.raises(DataError, match=DATA_SHA256) as caught:
        ensure_data(target=other_target, shared=corrupted)
    assert_names(caught, corrupted)
    assert not other_target.exists()


# --- ensure_data: download ---------------------------------------------------------------------------------------

def http_reply(body: bytes, length: int | None = None) -> bytes:
    return b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


@contextlib.contextmanager
def loopback_server(reply: bytes | None):
    """The URL of a one-connection server on 127.0.0.1 that sends ``reply`` (None: connects, never answers)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve():
        with contextlib.suppress(OSError), listener.accept()[0] as connection:
            connection.recv(65536)
            connection.sendall(reply)

    if reply is not None:
        threading.Thread(target=serve, daemon=True).start()
    with listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/{DATA_FILE}"


def closed_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{DATA_FILE}"


def test_ensure_data_downloads_when_there_is_no_shared_copy(tmp_path, small_data):
    target = tmp_path / "data" / DATA_FILE
    with loopback_server(http_reply(small_data.read_bytes())) as url:
        assert ensure_data(target=target, shared=tmp_path / "absent.json", url=url) == target
    assert target.read_bytes() == small_data.read_bytes()
    assert not target.with_suffix(".part").exists()


def test_a_failed_download_says_where_to_put_the_file(tmp_path, small_data):
    target, shared, url = tmp_path / "data" / DATA_FILE, tmp_path / "shared" / DATA_FILE, closed_port_url()
    with pytest.raises(DataError) as caught:
        ensure_data(target=target, shared=shared, url=url)
    message = str(caught.value)
    assert url in message and "failed" in message and "refused" in message
    assert str(target) in message and str(shared) in message
    assert not target.exists() and not target.with_suffix(".part").exists()


def test_a_server_that_never_answers_times_out(tmp_path, small_data):
    target = tmp_path / "data" / DATA_FILE
    start = time.monotonic()
    with loopback_server(None) as url, pytest.raises(DataError, match="timed out") as caught:
        ensure_data(target=target, shared=tmp_path / "absent.json", url=url, timeout=0.3)
    assert time.monotonic() - start < 10
    assert url in str(caught.value)
    assert not target.with_suffix(".part").exists()


def test_a_broken_download_leaves_no_part_file(tmp_path, small_data):
    target = tmp_path / "data" / DATA_FILE
    with loopback_server(http_reply(b"{\"sentence1\"", length=1000)) as url, pytest.raises(DataError) as caught:
        ensure_data(target=target, shared=tmp_path / "absent.json", url=url)
    assert url in str(caught.value)
    assert not target.exists() and not target.with_suffix(".part").exists()


def test_a_corrupted_download_names_the_url(tmp_path, small_data):
    target = tmp_path / "data" / DATA_FILE
    with loopback_server(http_reply(small_data.read_bytes() + b"\n")) as url, \
            pytest.raises(DataError, match="sha256") as caught:
        ensure_data(target=target, shared=tmp_path / "absent.json", url=url)
    assert url in str(caught.value) and ".part" not in str(caught.value)
    assert not target.exists() and not target.with_suffix(".part").exists()

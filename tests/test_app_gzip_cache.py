"""Static files are compressed once per server: the second response replays the kept copy."""

import gzip
import os

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import GZipContentEncoding

from hipviz.app import gzip_cache
from hipviz.app.gzip_cache import CachedGzip


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    monkeypatch.setattr(CachedGzip, "_kept", type(CachedGzip._kept)())
    monkeypatch.setattr(CachedGzip, "_kept_bytes", 0)


def send(body: bytes, chunk: int = 64 * 1024, method: str = "GET", **extra) -> tuple[HTTPHeaders, bytes]:
    """What CachedGzip sends for `body` written in chunks the way a static file is."""
    request = HTTPServerRequest(start_line=RequestStartLine(method, "/static/x.js", "HTTP/1.1"), headers=HTTPHeaders({"Accept-Encoding": "gzip", "Host": "127.0.0.1"}))
    t = CachedGzip(request)
    headers = HTTPHeaders({"Content-Type": "application/javascript", "Etag": '"abc"', "Content-Length": str(len(body)), **extra})
    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
    _, headers, out = t.transform_first_chunk(200, headers, parts[0], len(parts) == 1)
    sent = [out] + [t.transform_chunk(p, i == len(parts) - 2) for i, p in enumerate(parts[1:])]
    return headers, b"".join(sent)


def script(n: int = 300_000) -> bytes:
    words = os.urandom(n // 8).hex().encode()          # compressible, not trivially so
    return b"function f(){return 1}\n" * (n // 48) + words


def test_the_second_response_is_the_kept_copy_and_decompresses_to_the_file():
    body = script()
    h1, first = send(body)
    assert h1["Content-Encoding"] == "gzip" and "Content-Length" not in h1       # compressed as it went
    assert gzip.decompress(first) == body
    assert len(CachedGzip._kept) == 1
    h2, second = send(body)
    assert h2["Content-Encoding"] == "gzip" and int(h2["Content-Length"]) == len(second)
    assert gzip.decompress(second) == body and "Accept-Encoding" in h2["Vary"]


@pytest.mark.parametrize("extra", [{"Cache-Control": "no-store"}, {"Etag": ""}])
def test_pages_that_may_not_be_stored_or_have_no_etag_are_not_kept(extra):
    body = script()
    send(body, **extra)
    assert not CachedGzip._kept
    _, again = send(body, **extra)
    assert gzip.decompress(again) == body


def test_a_head_request_is_never_answered_with_the_kept_body():
    body = script()
    send(body)
    headers, sent = send(b"", method="HEAD", **{"Content-Length": str(len(body))})
    assert sent == b"" and "Content-Encoding" not in headers


def test_small_files_are_not_kept_and_the_copies_stay_under_the_limit(monkeypatch):
    send(b"x" * 2000)
    assert not CachedGzip._kept
    monkeypatch.setattr(gzip_cache, "MAX_BYTES", 100_000)
    for i in range(6):
        send(script(200_000 + i), Etag=f'"{i}"')
    assert 0 < CachedGzip._kept_bytes <= 100_000
    assert ('"5"', "application/javascript") in CachedGzip._kept          # the newest are kept


def test_install_replaces_only_the_gzip_transform():
    class App:
        transforms = [GZipContentEncoding, object]
    gzip_cache.install(App)
    assert App.transforms == [CachedGzip, object]

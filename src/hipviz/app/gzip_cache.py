"""Compress each static file once per server, not once per page load.

Tornado gzips every compressible response as it is sent. For the app's scripts (Bokeh, Panel and
vtk.js: 4.3 MB before compression when this was measured, with Panel's full vtk.js) that was about
0.3 s of the server's single thread on every first visit, while the browser waits for them. Static files carry an Etag computed from their
content, so a compressed copy kept under that Etag is exactly what compressing them again would
give.
"""

from __future__ import annotations

from collections import OrderedDict

from tornado.httputil import HTTPHeaders
from tornado.web import GZipContentEncoding

# Only responses at least this large are kept (below it compressing is quick), and the copies
# kept stay under MAX_BYTES, the oldest dropped first. The app's static files come to about 1.5 MB
# compressed.
MIN_BYTES = 16 * 1024
MAX_BYTES = 32 * 1024 * 1024


class CachedGzip(GZipContentEncoding):
    """GZipContentEncoding that keeps the compressed body of each large 200 response to a GET that
    has an Etag and may be stored (no `Cache-Control: no-store`), and sends that copy next time."""

    _kept: OrderedDict[tuple[str, str], bytes] = OrderedDict()
    _kept_bytes = 0

    def __init__(self, request) -> None:
        super().__init__(request)
        self._get = request.method == "GET"      # a HEAD request has no body to replay

    def transform_first_chunk(self, status_code: int, headers: HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, HTTPHeaders, bytes]:
        self._key, self._parts, self._replay = None, [], False
        etag = headers.get("Etag")
        storable = "no-store" not in headers.get("Cache-Control", "")
        if status_code == 200 and self._get and etag and storable and self._gzipping:
            key = (etag, headers.get("Content-Type", ""))
            body = self._kept.get(key)
            if body is not None and "Content-Encoding" not in headers:
                self._kept.move_to_end(key)
                self._replay = True
                headers["Vary"] = f"{headers['Vary']}, Accept-Encoding" if "Vary" in headers else "Accept-Encoding"
                headers["Content-Encoding"] = "gzip"
                headers["Content-Length"] = str(len(body))
                return status_code, headers, body
            self._key = key
        return super().transform_first_chunk(status_code, headers, chunk, finishing)

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        if self._replay:
            return b""                     # the whole body went out with the first chunk
        out = super().transform_chunk(chunk, finishing)
        if self._key is not None and self._gzipping:
            self._parts.append(out)
            if finishing:
                self._keep(self._key, b"".join(self._parts))
        return out

    @classmethod
    def _keep(cls, key: tuple[str, str], body: bytes) -> None:
        if len(body) < MIN_BYTES or len(body) > MAX_BYTES or key in cls._kept:
            return
        cls._kept[key] = body
        cls._kept_bytes += len(body)
        while cls._kept_bytes > MAX_BYTES:
            _, old = cls._kept.popitem(last=False)
            cls._kept_bytes -= len(old)


def install(application) -> None:
    """Use CachedGzip in place of Tornado's gzip transform in a tornado Application."""
    application.transforms = [CachedGzip if t is GZipContentEncoding else t for t in application.transforms]

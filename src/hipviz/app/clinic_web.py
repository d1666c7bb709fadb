"""Clinician sign-in over plain HTTP, so the session lives in an HttpOnly cookie.

A websocket callback cannot set an HttpOnly cookie, so signing in and out are Tornado handlers
beside the Panel apps (`/clinic/signin`, `/clinic/signout`). The cookie carries a random value of
which the database keeps only a hash (`hipviz.app.clinic`).

Bokeh copies a request's cookies into the session token it embeds in the page, where the page's
JavaScript could read them; the server therefore leaves this cookie out of the token
(`exclude_cookies`, `exclude_headers=["Cookie"]`), and the clinic page reads it from the live
HTTP request that created its session (`clinician_cookie`).

Forms are accepted only from this server's own pages (the Origin, or failing that the Referer,
must name the host the request was sent to, which `host_check` has already vouched for), and repeated wrong passwords from one address are slowed down.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from string import Template
from urllib.parse import urlparse

from tornado import web

from hipviz.app.clinic import SESSION_S, Clinic
from hipviz.app.texts import texts

CLINICIAN_COOKIE = "hipviz_clinician"
MAX_FAILED = 10            # wrong passwords from one address ...
FAILED_WINDOW_S = 15 * 60  # ... within this time, then sign-in waits
PAGES = Path(__file__).with_name("clinic_pages")


def clinician_cookie(session_context) -> str | None:
    """The clinician cookie of the HTTP request that opened this Bokeh session (not of the
    session token, which leaves it out)."""
    req = getattr(session_context, "request", None)
    live = getattr(req, "_request", None)            # the Tornado request behind Bokeh's proxy
    cookies = getattr(live, "cookies", None) or {}
    morsel = cookies.get(CLINICIAN_COOKIE)
    return getattr(morsel, "value", morsel) or None


class _Failures:
    """Wrong sign-ins per client address in a sliding window (per process)."""

    def __init__(self):
        self._at: dict[str, deque] = defaultdict(deque)

    def blocked(self, who: str, now: float) -> bool:
        q = self._at[who]
        while q and q[0] < now - FAILED_WINDOW_S:
            q.popleft()
        return len(q) >= MAX_FAILED

    def add(self, who: str, now: float) -> None:
        self._at[who].append(now)


class _ClinicHandler(web.RequestHandler):
    def initialize(self, clinic_of):
        self.clinic_of = clinic_of          # () -> Clinic on the process's store

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "same-origin")

    def same_origin(self) -> bool:
        src = self.request.headers.get("Origin") or self.request.headers.get("Referer")
        if not src or src == "null":
            return False
        return urlparse(src).netloc.lower() == self.request.host.lower()

    def page(self, message: str = "", kind: str = "hv-msg", username: str = "", status: int = 200) -> None:
        self.set_status(status)
        msg = f"<p class='{kind}' role='alert'>{html.escape(message)}</p>" if message else ""
        css = (PAGES / "clinic.css").read_text(encoding="utf-8")
        body = Template((PAGES / "signin.html").read_text(encoding="utf-8")).substitute(
            css=css, message=msg, username=html.escape(username, quote=True))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(body)


class SignInHandler(_ClinicHandler):
    failures = _Failures()

    def get(self) -> None:
        note = self.get_argument("note", "")
        t = texts()["clinic"]
        self.page(t.get(note, ""), kind="hv-note") if note in ("signed_out", "expired") else self.page()

    def post(self) -> None:
        t = texts()["clinic"]
        if not self.same_origin():
            self.page(t["foreign_form"], status=403)
            return
        who = self.request.remote_ip or "?"
        now = time.time()
        username = self.get_body_argument("username", "")[:64]
        password = self.get_body_argument("password", "")[:1024]
        if self.failures.blocked(who, now):
            self.page(t["too_many"], username=username, status=429)
            return
        value = self.clinic_of().sign_in(username, password)
        if value is None:
            self.failures.add(who, now)
            self.page(t["wrong_password"], username=username, status=401)
            return
        self.set_cookie(CLINICIAN_COOKIE, value, path="/", httponly=True, samesite="Strict",
                        expires_days=SESSION_S / 86400, secure=self.request.protocol == "https")
        self.redirect("../clinic")


class SignOutHandler(_ClinicHandler):
    def post(self) -> None:
        if not self.same_origin():
            self.page(texts()["clinic"]["foreign_form"], status=403)
            return
        value = self.get_cookie(CLINICIAN_COOKIE)
        if value:
            self.clinic_of().sign_out(value)
        self.clear_cookie(CLINICIAN_COOKIE, path="/")
        self.redirect("signin?note=signed_out")


def routes(clinic_of: Callable[[], Clinic]) -> list[tuple]:
    """Tornado routes for `pn.serve(extra_patterns=...)`."""
    kw = {"clinic_of": clinic_of}
    return [(r"/clinic/signin", SignInHandler, kw), (r"/clinic/signout", SignOutHandler, kw)]

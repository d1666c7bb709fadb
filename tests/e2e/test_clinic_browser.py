"""Clinic mode in the browser: a patient shares a map by a code, a clinician signs in (an
HttpOnly cookie set over plain HTTP), enters the code, opens the map on the body read only, and
every read is in the log the patient sees."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import open_app
from test_app_browser import paint_at, tab, target, wait_ranking  # noqa: F401

from hipviz.app.clinic import Clinic
from hipviz.app.store import Store

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def clinician(server):
    store = Store(server.db)
    try:
        Clinic(store).add_clinician("lee", PASSWORD, "Dr A. Lee")
    finally:
        store.close()
    return "lee"


def _base(server) -> str:
    return server.url.rsplit("/", 1)[0]


def _post(url: str, data: dict, origin: str | None, jar=None) -> tuple[int, dict, str]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method="POST")
    if origin:
        req.add_header("Origin", origin)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    handlers = [NoRedirect()] + ([urllib.request.HTTPCookieProcessor(jar)] if jar is not None else [])
    try:
        with urllib.request.build_opener(*handlers).open(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_sign_in_sets_an_httponly_cookie_that_the_page_never_carries(server, clinician):
    base = _base(server)
    status, _, _ = _post(f"{base}/clinic/signin", {"username": "lee", "password": PASSWORD}, origin=None)
    assert status == 403, "a form from nowhere must be refused"
    status, _, body = _post(f"{base}/clinic/signin", {"username": "lee", "password": "wrong-password-1"}, origin=base)
    assert status == 401 and "wrong" in body
    jar = http.cookiejar.CookieJar()
    status, headers, _ = _post(f"{base}/clinic/signin", {"username": "lee", "password": PASSWORD}, origin=base, jar=jar)
    assert status == 302
    set_cookie = headers.get("Set-Cookie", "")
    assert "hipviz_clinician=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    value = re.search(r"hipviz_clinician=([^;]+)", set_cookie).group(1)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/clinic", timeout=120) as r:
        page = r.read().decode()
    assert value not in page, "the clinician's session value reached the page's JavaScript"
    # signing out ends the session in the database, not only in this browser
    status, _, _ = _post(f"{base}/clinic/signout", {}, origin=base, jar=jar)
    assert status == 302
    store = Store(server.db)
    try:
        assert Clinic(store).clinician_for(value) is None
    finally:
        store.close()


@pytest.mark.browser
def test_a_shared_map_reaches_its_clinician_and_every_read_is_logged(browser, server, clinician, target):
    base = _base(server)
    patient = browser.new_context(viewport={"width": 1400, "height": 860})
    doctor = browser.new_context(viewport={"width": 1400, "height": 860})
    try:
        page = patient.new_page()
        open_app(page, server.url)
        paint_at(page, target, strokes=1)
        wait_ranking(page)
        painted = page.locator(".hv-painted").inner_text()
        tab(page, "My maps")
        page.get_by_role("button", name="Make a share code").click()
        code_text = page.locator(".hv-code").inner_text(timeout=30_000)
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code_text).group(0)

        doc = doctor.new_page()
        doc.goto(f"{base}/clinic/signin")
        doc.get_by_label("User name").fill("lee")
        doc.get_by_label("Password").fill(PASSWORD)
        doc.get_by_role("button", name="Sign in").click()
        doc.wait_for_url(re.compile(r"/clinic$"), timeout=60_000)
        doc.get_by_text("Dr A. Lee").wait_for(timeout=60_000)
        assert "hipviz_clinician" not in doc.evaluate("() => document.cookie"), "the session cookie must be HttpOnly"
        doc.get_by_label("A patient's share code").fill(code.lower())
        doc.get_by_role("button", name="Add").click()
        doc.get_by_text("Added:").wait_for(timeout=30_000)
        with doctor.expect_page() as opened:
            doc.get_by_role("link", name="Open on the 3D body").click()
        view = opened.value
        view.wait_for_function("() => window.__hipviz && window.__hipviz.built && (window.__hipviz.skinVersion || 0) > 0",
                               timeout=120_000)
        assert view.locator(".hv-painted").inner_text() == painted
        assert "Read only" in view.locator(".hv-save").inner_text()
        assert "hipviz_session" not in view.evaluate("() => document.cookie"), "a clinician's view made a patient cookie"

        # the log: the claim and the read, with who and when; the patient sees the read
        store = Store(server.db)
        try:
            actions = [e.action for e in Clinic(store).audit() if e.share_code and e.share_code.replace("-", "") == code.replace("-", "")]
        finally:
            store.close()
        assert actions[:2] == ["claim", "read"]
        page.reload()
        open_app(page, page.url)
        tab(page, "My maps")
        page.get_by_text("Opened by Dr A. Lee").first.wait_for(timeout=30_000)

        # a second clinician's browser without a sign-in sees nothing of it
        other = browser.new_context()
        try:
            o = other.new_page()
            o.goto(f"{base}/hipviz?shared=1")
            o.wait_for_function("() => window.__hipviz && window.__hipviz.built", timeout=120_000)
            assert "Read only" not in o.locator(".hv-top").inner_text()
        finally:
            other.close()
    finally:
        patient.close()
        doctor.close()

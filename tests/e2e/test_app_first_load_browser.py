"""End-to-end: a first visit receives the skin alone, over a websocket whose messages travel
deflated; the structures inside it arrive, once, when something under the skin is first shown,
and then show as Python asked."""

from __future__ import annotations

import pytest
from conftest import open_app
from test_app_browser import tab

pytestmark = pytest.mark.browser


def test_the_inside_of_the_body_arrives_when_it_is_first_shown(context, server):
    page = context.new_page()
    frames: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f) if isinstance(f, (bytes, str)) else 0)))
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    handshakes: list[dict] = []
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: handshakes.append(e["response"].get("headers", {})))
    open_app(page, server.url)
    # the websocket's messages travel deflated
    assert handshakes and all("permessage-deflate" in {k.lower(): v for k, v in h.items()}.get("sec-websocket-extensions", "")
                              for h in handshakes), handshakes
    n_actors = page.evaluate("() => window.__hipviz.meta.actors.length")
    assert n_actors > 1
    page.wait_for_timeout(1000)
    assert page.evaluate("() => window.__hipviz.actors.size") == 1           # the skin alone
    first_visit = sum(frames)
    tab(page, "Body")
    page.get_by_role("button", name="See inside").click()
    page.locator(".hv-root[data-rest='built']").first.wait_for(timeout=30_000)
    assert page.evaluate("() => window.__hipviz.actors.size") == n_actors
    # what Python asked for while the geometry was on its way is what shows
    shown = page.evaluate("""() => { const S = window.__hipviz; let n = 0;
      for (const [id, a] of S.actors) if (id !== S.skinId && a.actor.getVisibility()) n++; return n; }""")
    assert shown > 0
    assert page.evaluate("() => window.__hipviz.pending.size") == 0
    later = sum(frames) - first_visit
    assert later > first_visit, (first_visit, later)        # most of the geometry came only now

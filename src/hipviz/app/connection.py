"""A notice when the page loses its server, and the way back.

When the page's websocket closes, Bokeh tells the page's document (`connection_lost`). This
component then shows a banner above everything (role="alert"), asks the server's `/liveness` every
few seconds, and reloads the page as soon as it answers: the browser's cookie and the address
open the same person's map, saved up to the last dab (a stroke held still is saved by the
server's autosave timer, a stroke cut off by the page going away as its session closes).

Reloading, rather than Bokeh's own reconnection of the old session (`pn.config.reconnect`), is
what works whichever way the connection went: a server restarted or killed has no old session,
and with several processes the reconnection may reach another one; the old session, if it is
still alive, saves what it holds when it closes.
"""

from __future__ import annotations

from pathlib import Path

import param

from hipviz.app.plain_js import PlainJSComponent
from hipviz.app.texts import texts


class ConnectionWatch(PlainJSComponent):
    lost_text = param.String()
    liveness_url = param.String(default="liveness")
    poll_ms = param.Integer(default=2000, bounds=(200, None))

    _esm = """
    export function render({ model, view }) {
      const el = document.createElement("div");
      el.className = "hv-conn";
      el.setAttribute("role", "alert");
      el.hidden = true;
      const doc = view.model.document;
      let poll = null;
      const show = (text, cls) => {
        el.textContent = text;
        el.className = "hv-conn " + cls;
        el.hidden = false;
        document.body.classList.add("hv-offline");
      };
      const reloadWhenBack = () => {
        if (poll !== null) return;
        const url = new URL(model.liveness_url, window.location.href);
        poll = setInterval(async () => {
          try {
            const r = await fetch(url, { cache: "no-store" });
            if (r.ok) { clearInterval(poll); window.location.reload(); }
          } catch (e) { /* still away */ }
        }, model.poll_ms);
      };
      doc.on_event("connection_lost", () => {
        show(model.lost_text, "hv-conn-lost");
        reloadWhenBack();
      });
      return el;
    }
    """

    _stylesheets = [(Path(__file__).with_name("connection.css")).read_text(encoding="utf-8")]

    @classmethod
    def from_texts(cls, **kw) -> "ConnectionWatch":
        t = texts()["connection"]
        return cls(lost_text=t["lost"], **kw)

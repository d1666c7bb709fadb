"""The load benchmark's baseline: the smallest Panel app that answers the messages hipviz's page
sends, served the way hipviz is (same path, same scene and geometry sent once per page).

It keeps a per-page colour array and nothing else: a `dab` is answered with the colours of the
vertices it names (one `skin` message, as hipviz sends), a `stroke_end` updates a small "ranking"
pane (one property patch), `ready` is answered with `synced`. No brush, no summary, no ranking
model, no store. `bench/bench_load.py` runs the same load against it to show what Panel and
Bokeh alone cost per message on this machine. Its websockets send without Nagle's delay, as
hipviz's do (`--nagle` leaves Panel's default, which adds about 40 ms to every reply).

Usage: python bench/baseline_load_app.py --port P [--procs N]
(HIPVIZ_ATLAS_FACTORY as for `hipviz serve`: the fake body for tests, the shipped atlas otherwise.)
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import panel as pn
import param
from panel.custom import JSComponent

_PAYLOAD = None


def payload():
    """The hipviz scene payload (index and zlib geometry) of the same atlas hipviz serves."""
    global _PAYLOAD
    if _PAYLOAD is None:
        from hipviz.app.scene import payload_for
        from hipviz.app.server import _load_atlas
        _PAYLOAD = payload_for(_load_atlas())
    return _PAYLOAD


class BaselineViewer(JSComponent):
    scene = param.String(default="{}")
    geometry = param.Bytes(default=None)
    role = param.String(default="main")

    _esm = """
    export function render({ model }) {
      model.send_msg({ type: "ready" });
      const d = document.createElement("div");
      d.textContent = "baseline";
      return d;
    }
    """

    def __init__(self, **params):
        p = payload()
        super().__init__(scene=p.meta_json, geometry=p.blob, **params)
        self.nverts = p.skin_points
        self.rgb = np.zeros((self.nverts, 3), np.uint8)
        self.strokes = 0
        self.ranking = pn.pane.HTML("", width=300)

    def _handle_msg(self, data) -> None:
        if not isinstance(data, dict):
            return
        kind = data.get("type")
        if kind == "dab":
            idx = np.asarray(data.get("points") or [], np.int64)
            idx = idx[(idx >= 0) & (idx < self.nverts)].astype("<u4")
            self.rgb[idx] = (214, 39, 40)
            self._send_msg({"type": "skin", "idx": idx.tobytes(), "rgb": self.rgb[idx].tobytes()})
        elif kind == "stroke_end":
            self.strokes += 1
            self.ranking.object = f"<p>{self.strokes} strokes</p>"
        elif kind == "ready":
            self._send_msg({"type": "synced"})


def page():
    v = BaselineViewer(sizing_mode="stretch_width", height=300)
    return pn.Column(v, v.ranking)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--nagle", action="store_true", help="leave Nagle's algorithm on (Panel's default)")
    args = ap.parse_args(argv)
    os.environ.setdefault("BOKEH_RESOURCES", "server")
    if not args.nagle:
        # the same socket option as hipviz's server, so that the two compare in work, not in
        # Nagle's 40 ms (--nagle shows Panel's default)
        from hipviz.app.server import websockets_without_delay
        websockets_without_delay()
    payload()   # built once before forking, as hipviz builds its context
    host = f"127.0.0.1:{args.port}"
    server = pn.serve({"hipviz": page}, port=args.port, address="127.0.0.1", show=False, start=False,
                      websocket_origin=[host, f"localhost:{args.port}"], liveness=True,
                      **({"num_procs": args.procs} if args.procs > 1 else {}))
    server.start()
    print(f"baseline running at http://{host}/hipviz", flush=True)
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

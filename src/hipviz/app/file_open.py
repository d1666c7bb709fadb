"""Opening a pain map file: read and size-checked in the browser before anything is sent.

Panel's FileInput sends whatever file is chosen to the server in one websocket frame, so a 50 MB
file dropped the connection and left a dead page. Here the page checks the file first (empty,
too large) and says so at once; only a file within the limit travels, as text, and Python
checks the size again before parsing (a message can be forged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import param

from hipviz.app.plain_js import PlainJSComponent

log = logging.getLogger(__name__)

#: the largest pain map file accepted (a map painted all over is a few hundred kB)
MAX_IMPORT_BYTES = 4 * 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


class FileOpen(PlainJSComponent):
    """A labelled file chooser. `on_file(cb)`: cb(name, text) for a file within the limit;
    `on_error(cb)`: cb(message) for an empty, oversized or unreadable file."""

    label = param.String(default="Open a map file")
    accept = param.String(default=".json,application/json")
    max_bytes = param.Integer(default=MAX_IMPORT_BYTES, constant=True)

    _esm = """
    export function render({ model }) {
      const wrap = document.createElement("label");
      wrap.className = "hv-file-open";
      const text = document.createElement("span");
      text.textContent = model.label;
      const input = document.createElement("input");
      input.type = "file";
      input.accept = model.accept;
      input.addEventListener("change", async () => {
        const f = input.files && input.files[0];
        input.value = "";            // choosing the same file again is a new choice
        if (!f) return;
        if (f.size === 0) { model.send_msg({ type: "rejected", reason: "empty", name: f.name }); return; }
        if (f.size > model.max_bytes) { model.send_msg({ type: "rejected", reason: "too_big", name: f.name, size: f.size }); return; }
        try {
          model.send_msg({ type: "file", name: f.name, text: await f.text() });
        } catch (e) {
          model.send_msg({ type: "rejected", reason: "unreadable", name: f.name });
        }
      });
      wrap.append(text, input);
      return wrap;
    }
    """

    def __init__(self, **params):
        super().__init__(**params)
        self._file_cbs: list[Callable[[str, str], None]] = []
        self._error_cbs: list[Callable[[str], None]] = []

    def on_file(self, cb: Callable[[str, str], None]) -> None:
        self._file_cbs.append(cb)

    def on_error(self, cb: Callable[[str], None]) -> None:
        self._error_cbs.append(cb)

    def _error(self, message: str) -> None:
        for cb in self._error_cbs:
            cb(message)

    def _handle_msg(self, data) -> None:
        if not isinstance(data, dict):
            return
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        name = name[:120]
        kind = data.get("type")
        if kind == "file":
            text = data.get("text")
            if not isinstance(text, str):
                self._error("The file could not be read.")
            elif not text.strip():
                self._error(f"{name or 'The file'} is empty.")
            elif len(text.encode("utf-8", "surrogatepass")) > self.max_bytes:
                self._error(f"{name or 'The file'} is larger than {_mb(self.max_bytes)}, too large for a pain map file.")
            else:
                for cb in self._file_cbs:
                    cb(name, text)
        elif kind == "rejected":
            reason = data.get("reason")
            size = data.get("size")
            if reason == "empty":
                self._error(f"{name or 'The file'} is empty.")
            elif reason == "too_big":
                got = f" ({_mb(size)})" if isinstance(size, int) and size > 0 else ""
                self._error(f"{name or 'The file'}{got} is larger than {_mb(self.max_bytes)}, too large for a pain map file.")
            else:
                self._error(f"{name or 'The file'} could not be read.")
        else:
            log.warning("file chooser: message of unknown type dropped")

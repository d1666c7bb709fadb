// A slow network made in the page: every websocket message, both ways, waits window.__wsDelayMs
// (Chromium's network emulation does not hold websocket frames). For the browser tests and the
// viewer benchmark.
(() => {
  const Native = window.WebSocket;
  const hold = (f) => (ev) => setTimeout(() => f(ev), window.__wsDelayMs || 0);
  class Slow extends Native {
    send(data) { setTimeout(() => { if (this.readyState === 1) super.send(data); }, window.__wsDelayMs || 0); }
    set onmessage(f) { super.onmessage = f ? hold(f) : null; }
    get onmessage() { return super.onmessage; }
    addEventListener(type, f, opts) {
      return super.addEventListener(type, type === "message" ? hold(f) : f, opts);
    }
  }
  window.WebSocket = Slow;
})();

"""The load benchmark runs end to end: it starts a fake-body hipviz server and the baseline app,
opens two sessions on each over the page's websocket protocol, paints for a few seconds, and
reports figures without errors. No timing thresholds: this machine's speed is not under test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_load_reports_figures_and_no_errors(tmp_path):
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_load.py"), "--start", "--fake", "--procs", "1",
         "--sessions", "2", "--duration", "3", "--drain", "20", "--max-seconds", "240", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert {(r["app"], r["procs"], r["n"]) for r in rows} == {("hipviz", 1, 2), ("baseline", 1, 2)}
    for r in rows:
        assert r["error_count"] == 0, r["errors"]
        assert r["sessions_ok"] == 2
        assert r["dabs"] > 20 and r["strokes"] >= 2
        assert all(x is not None and x > 0 for x in (*r["dab_ms"], *r["rank_ms"]))
        assert r["mb_per_session"] is not None and r["cpu_ms_per_msg"] is not None
    assert "dab → reply" in proc.stdout and "hipviz / baseline" in proc.stdout

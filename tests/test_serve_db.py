"""`hipviz serve --db FILE|postgresql://… --procs N`: the arguments, and several processes serving
one database (on SQLite and PostgreSQL), with the small fake body."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


from hipviz.app.store import Store
from hipviz.cli import build_parser, main

TESTS = Path(__file__).resolve().parent


def test_db_accepts_a_file_or_a_postgres_url():
    args = build_parser().parse_args(["serve", "--db", "postgresql://clinic:pw@db.local/hipviz", "--procs", "4"])
    assert (args.db, args.procs) == ("postgresql://clinic:pw@db.local/hipviz", 4)
    assert build_parser().parse_args(["serve"]).procs == 1


def test_bad_db_and_procs_are_usage_errors(capsys, monkeypatch):
    monkeypatch.delenv("HIPVIZ_DB", raising=False)
    assert main(["serve", "--db", "mysql://u@h/x", "--no-browser", "--port", "0"]) == 2
    assert "unsupported database" in capsys.readouterr().err
    assert main(["serve", "--procs", "0", "--no-browser"]) == 2
    assert "--procs" in capsys.readouterr().err


def test_unreachable_database_is_reported_without_the_password(capsys, monkeypatch):
    monkeypatch.setenv("HIPVIZ_ATLAS_FACTORY", "test_app_fakes:fake_atlas")
    monkeypatch.delenv("HIPVIZ_DB", raising=False)
    import hipviz.app.server as server

    monkeypatch.setattr(server, "_CTX", None)
    rc = main(["serve", "--db", "postgresql://clinic:s3cret@127.0.0.1:9/hipviz?connect_timeout=2", "--no-browser", "--port", "0"])
    err = capsys.readouterr().err
    assert rc == 1 and "cannot be reached" in err and "s3cret" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_serve_one_database(store_url, tmp_path):
    Store(store_url).close()                     # the schema is made once, before the processes
    port = _free_port()
    env = dict(os.environ, HIPVIZ_ATLAS_FACTORY="test_app_fakes:fake_atlas",
               PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    env.pop("HIPVIZ_DB", None)
    cmd = [sys.executable, "-m", "hipviz.cli", "serve", "--no-browser", "--port", str(port), "--procs", "2", "--db", store_url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/hipviz", timeout=10) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        for _ in range(5):                       # the kernel spreads these over both processes
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hipviz", timeout=30) as r:
                assert r.status == 200
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        s = Store(store_url)
        with s.engine.connect() as c:     # both reached the database; visits alone store nothing
            assert c.exec_driver_sql("SELECT count(*) FROM maps").scalar_one() == 0
            assert c.exec_driver_sql("SELECT count(*) FROM people").scalar_one() == 0
        s.close()
    finally:
        os.killpg(proc.pid, 15)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, _ = proc.communicate()
    assert "2 processes" in out and out.count("hipviz is running") == 1

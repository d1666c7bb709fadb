"""`hipviz ddx` and `hipviz conditions`: output, JSON shape, exit codes and error messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hipviz import cli
from hipviz.paths import data_dir
from hipviz.vocabulary import vocabulary

EXAMPLES = data_dir("pain_maps") / "examples"
# What the `hipviz` console script runs (`python -m hipviz.cli` would load cli.py twice, as __main__).
HIPVIZ = [sys.executable, "-c", "import sys; from hipviz.cli import main; sys.exit(main())"]


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_table_output(capsys):
    code, out, err = run(["ddx", str(EXAMPLES / "gtps_side_lying.json")], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["#", "Condition", "Side", "Match", "Prob", "Source"]
    assert lines[1].startswith(" 1  Gluteal tendinopathy") and "right" in lines[1] and "%" in lines[1]
    assert "match" in lines[1] and "muscle/tendon" in lines[1]
    assert lines[2].startswith("      - ")
    assert "Something else (none of the conditions above):" in out
    assert "Worth telling your clinician" in out and "Aged over 50" in out
    assert "Questions that would help most:" in out
    assert "educational information, not a diagnosis" in out.replace("\n", " ")
    assert out.rstrip().endswith("seek medical care.")


def test_alerts_come_first(capsys):
    code, out, _ = run(["ddx", str(EXAMPLES / "cauda_equina.json")], capsys)
    assert code == 0
    assert out.startswith("!! Emergency: seek medical care now. Numbness between the legs")
    assert "emergency department now" in out.replace("\n   ", " ")
    first_row = next(line for line in out.splitlines() if line.startswith(" 1  "))
    assert "Cauda equina" in first_row and first_row.rstrip().endswith("!")


def test_json_output_follows_the_contract(capsys):
    """DESIGN.md section 4: candidates with condition, side, probability, band, source_kind, why
    and reasons; alerts with level, the warning signs behind them and the conditions to rule out;
    ask_next; disclaimer."""
    code, out, err = run(["ddx", "--json", str(EXAMPLES / "s1_sciatica.json")], capsys)
    assert code == 0 and err == ""
    d = json.loads(out)
    assert {"candidates", "alerts", "ask_next", "disclaimer", "something_else", "worth_telling"} == set(d)
    assert len(d["candidates"]) == len(vocabulary().conditions)
    for c in d["candidates"]:
        assert {"condition", "side", "probability", "band", "source_kind", "why", "reasons"} <= set(c)
        assert c["condition"] in vocabulary().conditions
        assert isinstance(c["probability"], float) and 0 <= c["probability"] <= 1
        assert c["band"] in ("strong", "moderate", "weak", "unlikely")
        assert c["source_kind"] in ("joint", "spine", "muscle_tendon", "nerve", "bone", "vascular", "other")
        assert all(isinstance(w, str) for w in c["why"])
        for r in c["reasons"]:
            assert {"text", "factor", "direction", "kind"} <= set(r)
    probs = [c["probability"] for c in d["candidates"]]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) != pytest.approx(1.0)  # each condition's own probability, not shares of 100%
    top = d["candidates"][0]
    assert top["condition"] == "radiculopathy_S1" and top["band"] == "strong" and top["source_kind"] == "spine"
    # the ceiling: (1 - misfit) of the model plus misfit times the prior, so never 99% (every
    # condition's prior share is under 0.2)
    assert top["probability"] <= 0.9 + 0.1 * 0.2
    assert d["alerts"] == []
    assert all("question" in q for q in d["ask_next"])
    assert "not a diagnosis" in d["disclaimer"]
    assert 0 <= d["something_else"]["probability"] <= 1


def test_json_alerts_carry_level_signs_and_conditions(capsys):
    code, out, _ = run(["ddx", "--json", str(EXAMPLES / "cauda_equina.json")], capsys)
    d = json.loads(out)
    (a,) = d["alerts"]
    assert a["level"] == "emergency" and a["title"] == "Emergency: seek medical care now"
    assert {"saddle_anaesthesia", "bladder_or_bowel_dysfunction"} <= set(a["warning_signs"])
    assert a["rule_out"][0] == "cauda_equina_syndrome"
    assert d["candidates"][0]["condition"] == "cauda_equina_syndrome" and d["candidates"][0]["promoted"]
    code, out, _ = run(["ddx", "--json", str(EXAMPLES / "avn_steroids.json")], capsys)
    d = json.loads(out)
    assert d["alerts"] == []  # risk factors only
    assert {w["id"] for w in d["worth_telling"]} == {"long_term_corticosteroids", "heavy_alcohol_use"}


def test_stdin(capsys, monkeypatch):
    import io

    data = (EXAMPLES / "hip_oa_groin.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(["ddx", "--json", "-"], capsys)
    assert code == 0 and json.loads(out)["candidates"][0]["condition"] == "hip_osteoarthritis"


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    ("{not json", "not valid JSON (line 1, column 2"),
    ('{"format": "hipviz-painmap", "version": 3}', "version: version 3 is newer than this hipviz supports (1)"),
    ('{"format": "hipviz-painmap", "version": 1, "regions": [{"region": "groin", "side": "up", "intensity": 2}]}',
     "regions[0].side: 'up' is not one of left, right, midline"),
    ('[]', "document: must be a JSON object, not a list"),
])
def test_invalid_input_exits_2_with_one_line_on_stderr(tmp_path, capsys, content, message):
    path = tmp_path / "map.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(["ddx", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("hipviz ddx: ") and message in err
    assert err.count("\n") == 1


def test_directory_is_invalid_input(tmp_path, capsys):
    code, _, err = run(["ddx", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err


def test_bad_top(capsys):
    code, _, err = run(["ddx", "--top", "-1", str(EXAMPLES / "hip_oa_groin.json")], capsys)
    assert code == 2 and "--top" in err


def test_top_limits_rows(capsys):
    code, out, _ = run(["ddx", "--top", "2", str(EXAMPLES / "hip_oa_groin.json")], capsys)
    assert code == 0
    assert [line[:4] for line in out.splitlines() if line[:4] in (" 1  ", " 2  ", " 3  ")] == [" 1  ", " 2  "]
    assert "more below" in out


def test_conditions_lists_every_id_with_names(capsys):
    code, out, _ = run(["conditions"], capsys)
    assert code == 0
    for cid in vocabulary().conditions:
        assert cid in out
    assert "clinician: Greater trochanteric pain syndrome" in out
    code, out, _ = run(["conditions", "--json"], capsys)
    rows = json.loads(out)
    assert [r["id"] for r in rows] == list(vocabulary().conditions)
    assert all(r["patient"] and r["clinician"] for r in rows)


def test_console_script_exit_status(tmp_path):
    """The installed entry point: exit 2 and the message on stderr for a missing file."""
    p = subprocess.run([*HIPVIZ, "ddx", str(tmp_path / "nope.json")], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert "hipviz ddx:" in p.stderr and "nope.json" in p.stderr
    p = subprocess.run([*HIPVIZ, "ddx", "--json", str(EXAMPLES / "meralgia_belt.json")], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["candidates"][0]["condition"] == "meralgia_paresthetica"

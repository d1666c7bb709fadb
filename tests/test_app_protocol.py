"""Browser messages are typed and bounded: a malformed, oversized or too-frequent message is
dropped whole with an error naming the problem, nothing of it is applied, and the page goes on."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_app_fakes import fake_atlas
from test_app_layout import paint_stroke
from test_app_session import right_lateral_hip_vertex

from hipviz.app.layout import AppContext, HipvizApp
from hipviz.app.protocol import LIMITS, Dab, ProtocolError, RateLimiter, parse_message
from hipviz.app.store import Store

N = 1000
SCENE = {"skin", "femur_left"}
CAM = {"position": [2.0, 0.0, 1.0], "focal_point": [0.0, 0.0, 1.0], "view_up": [0.0, 0.0, 1.0]}


def parse(data):
    return parse_message(data, n_skin_vertices=N, structures=SCENE)


BAD = {
    # not a message at all
    "a list": [1, 2, 3],
    "a string": "dab",
    "null": None,
    "a number": 7,
    "no type": {"stroke": 1, "points": [1]},
    "unknown type": {"type": "format_disk"},
    "type not a string": {"type": 3},
    "type with different case": {"type": "DAB", "stroke": 1, "points": [1]},
    # dab
    "dab without points": {"type": "dab", "stroke": 1},
    "dab with no points": {"type": "dab", "stroke": 1, "points": []},
    "dab points not a list": {"type": "dab", "stroke": 1, "points": "1,2,3"},
    "dab points as a dict": {"type": "dab", "stroke": 1, "points": {"0": 1}},
    "dab point a float": {"type": "dab", "stroke": 1, "points": [1.5]},
    "dab point a string": {"type": "dab", "stroke": 1, "points": ["12"]},
    "dab point a bool": {"type": "dab", "stroke": 1, "points": [True]},
    "dab point null": {"type": "dab", "stroke": 1, "points": [None]},
    "dab point nested": {"type": "dab", "stroke": 1, "points": [[1, 2]]},
    "dab point negative": {"type": "dab", "stroke": 1, "points": [-1]},
    "dab point off the skin": {"type": "dab", "stroke": 1, "points": [N]},
    "dab point 10**30": {"type": "dab", "stroke": 1, "points": [10**30]},
    "dab point -10**30": {"type": "dab", "stroke": 1, "points": [-(10**30)]},
    "dab point NaN": {"type": "dab", "stroke": 1, "points": [math.nan]},
    "dab point infinite": {"type": "dab", "stroke": 1, "points": [math.inf]},
    "dab with 2,000 points": {"type": "dab", "stroke": 1, "points": list(range(2000))},
    "dab with 31,000 points": {"type": "dab", "stroke": 1, "points": [5] * 31_000},
    "dab one over the limit": {"type": "dab", "stroke": 1, "points": [1] * (LIMITS.dab_points + 1)},
    "dab without stroke": {"type": "dab", "points": [1]},
    "dab stroke negative": {"type": "dab", "stroke": -1, "points": [1]},
    "dab stroke huge": {"type": "dab", "stroke": 10**20, "points": [1]},
    "dab stroke a string": {"type": "dab", "stroke": "1", "points": [1]},
    "dab with an extra field": {"type": "dab", "stroke": 1, "points": [1], "world": [[0, 0, 0]] * 10_000},
    # stroke_end
    "stroke_end without stroke": {"type": "stroke_end"},
    "stroke_end stroke a float": {"type": "stroke_end", "stroke": 1.25},
    "stroke_end with extra": {"type": "stroke_end", "stroke": 1, "hits": 10**9},
    # pick
    "pick unknown structure": {"type": "pick", "structure": "gluteus_maximus_typo", "cell": 0, "point": 0},
    "pick structure not a string": {"type": "pick", "structure": 5},
    "pick structure empty": {"type": "pick", "structure": ""},
    "pick structure enormous": {"type": "pick", "structure": "x" * 100_000},
    "pick cell a string": {"type": "pick", "structure": "skin", "cell": "0"},
    "pick point 10**30": {"type": "pick", "structure": "skin", "point": 10**30},
    "pick point below -1": {"type": "pick", "structure": "skin", "point": -5},
    "pick with extra": {"type": "pick", "structure": "skin", "world": [0, 0, 0]},
    # key
    "key unknown action": {"type": "key", "action": "rm -rf"},
    "key action missing": {"type": "key"},
    "key action a list": {"type": "key", "action": ["undo"]},
    # camera
    "camera missing view_up": {"type": "camera", "position": [1, 0, 0], "focal_point": [0, 0, 0]},
    "camera NaN": {"type": "camera", **CAM, "position": [math.nan, 0, 1]},
    "camera infinite": {"type": "camera", **CAM, "focal_point": [0, math.inf, 1]},
    "camera two numbers": {"type": "camera", **CAM, "position": [1, 2]},
    "camera four numbers": {"type": "camera", **CAM, "position": [1, 2, 3, 4]},
    "camera strings": {"type": "camera", **CAM, "view_up": ["0", "0", "1"]},
    "camera far away": {"type": "camera", **CAM, "position": [1e9, 0, 0]},
    "camera a string": {"type": "camera", "position": "here"},
    "camera extra": {"type": "camera", **CAM, "zoom": 3},
    # ready
    "ready with payload": {"type": "ready", "payload": "x" * 1000},
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_message_is_rejected_with_a_named_reason(name):
    with pytest.raises(ProtocolError) as e:
        parse(BAD[name])
    text = str(e.value)
    assert text and len(text) < 400, text        # short, and never echoes a huge payload


def test_the_named_field_is_in_the_error():
    with pytest.raises(ProtocolError, match=r"'dab' message rejected: points"):
        parse(BAD["dab with 2,000 points"])
    with pytest.raises(ProtocolError, match=r"vertex 1000 is not on this skin"):
        parse(BAD["dab point off the skin"])
    with pytest.raises(ProtocolError, match=r"structure: 'gluteus_maximus_typo' is not in the scene"):
        parse(BAD["pick unknown structure"])


def test_good_messages_parse():
    assert parse({"type": "ready"}).type == "ready"
    dab = parse({"type": "dab", "stroke": 3, "points": [0, 5, N - 1]})
    assert isinstance(dab, Dab) and dab.vertices().tolist() == [0, 5, N - 1]
    assert parse({"type": "dab", "stroke": 1, "points": [1] * LIMITS.dab_points}).stroke == 1
    assert parse({"type": "pick", "structure": "femur_left", "cell": 3, "point": 7}).structure == "femur_left"
    assert parse({"type": "pick", "structure": "skin"}).point == -1
    assert parse({"type": "key", "action": "redo"}).action == "redo"
    assert parse({"type": "stroke_end", "stroke": 2}).stroke == 2
    cam = parse({"type": "camera", **CAM}).camera()
    assert cam is not None and cam.position == (2.0, 0.0, 1.0)
    # JSON as the page sends it (integers stay integers through a round trip)
    assert parse(json.loads(json.dumps({"type": "dab", "stroke": 1, "points": [4, 2]}))).points == [4, 2]


def test_a_degenerate_camera_is_parsed_but_not_applied():
    # well-formed numbers, but the eye sits on the focal point: no camera comes of it
    msg = parse({"type": "camera", "position": [0, 0, 1], "focal_point": [0, 0, 1], "view_up": [0, 0, 1]})
    assert msg.camera() is None


def test_rate_limiter_lets_a_page_through_and_stops_a_flood():
    t = [0.0]
    rl = RateLimiter(rate=100, burst=20, clock=lambda: t[0])
    assert all(rl.allow() for _ in range(20))
    assert not rl.allow() and rl.dropped == 1
    t[0] += 0.05                                   # 50 ms later: 5 more
    assert sum(rl.allow() for _ in range(50)) == 5
    t[0] += 10.0                                   # a quiet spell refills only up to the burst
    assert sum(rl.allow() for _ in range(100)) == 20


@pytest.fixture
def app(tmp_path):
    ctx = AppContext(fake_atlas(), Store(tmp_path / "app.sqlite3"))
    yield HipvizApp(ctx)
    ctx.store.close()


@pytest.mark.parametrize("name", [k for k in BAD if isinstance(BAD[k], dict) and BAD[k].get("type") in ("dab", "stroke_end", "pick", "key")])
def test_a_bad_message_changes_nothing_in_the_app(app, name):
    v = right_lateral_hip_vertex(app.session)
    paint_stroke(app, [v])
    before = (app.session.intensity.copy(), app.session.revision, app.session.can_undo(), app.viewer.bytes_sent)
    rejected = app.viewer.rejected
    data = dict(BAD[name])
    points = data.get("points")
    if isinstance(points, list) and points and type(points[0]) is int:
        if points[0] == 1:            # an otherwise bad dab aimed at the painted vertex
            data["points"] = [v] + points[1:]
        elif points[0] == N:          # off the end of this app's skin
            data["points"] = [app.session.n_vertices]
    app.viewer._handle_msg(data)
    assert app.viewer.rejected == rejected + 1
    assert np.array_equal(app.session.intensity, before[0])
    assert (app.session.revision, app.session.can_undo(), app.viewer.bytes_sent) == before[1:]
    # and the page goes on: the next good stroke paints
    paint_stroke(app, [v + 1], stroke=99)
    assert app.session.intensity[v + 1] > 0


def test_a_flood_is_cut_and_the_page_recovers(app):
    v = right_lateral_hip_vertex(app.session)
    t = [0.0]
    app.viewer._rate = RateLimiter(rate=LIMITS.messages_per_s, burst=LIMITS.burst, clock=lambda: t[0])
    for _ in range(LIMITS.burst + 500):
        app.viewer._handle_msg({"type": "dab", "stroke": 1, "points": [v]})
    assert app.viewer._rate.dropped == 500
    t[0] += 5.0
    paint_stroke(app, [v + 1], stroke=2)
    assert app.session.intensity[v + 1] > 0


def test_the_largest_allowed_dab_paints_the_same_as_one_centre_at_a_time(app):
    """The brush's nearest-centre search gives exactly what the per-centre distances give."""
    s = app.session
    rng = np.random.default_rng(0)
    centres = rng.choice(s.n_vertices, size=min(LIMITS.dab_points, s.n_vertices), replace=False)
    got = s.brush_vertices(centres)
    want = np.unique(np.concatenate([s.brush_vertices([c]) for c in centres]))
    assert np.array_equal(np.sort(got), want)


def test_every_message_python_sends_has_a_case_in_the_page():
    import re
    from pathlib import Path

    from hipviz.app.protocol import OUTBOUND, check_outbound

    main_js = (Path(__file__).resolve().parents[1] / "src/hipviz/app/viewer/main.js").read_text()
    handled = set(re.findall(r'^      case "(\w+)":', main_js, re.M))
    assert handled == set(OUTBOUND)
    assert check_outbound({"type": "banner", "text": "x"})
    with pytest.raises(ValueError, match="not a viewer message: type 'label'"):
        check_outbound({"type": "label", "text": "x"})
    with pytest.raises(ValueError, match=r"fields \['text', 'x'\]"):
        check_outbound({"type": "banner", "text": "x", "x": 1})

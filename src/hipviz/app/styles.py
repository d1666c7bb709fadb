"""The app's style sheets, kept as .css files in app/css/ and read once.

The screen-size media queries are named here and written into the files as ``$NAME``, so the
layout rules in CSS and the Python that must know which layout a screen has (the Results tab, the
page's own media query watcher) share one definition.

Desktop (1000 px wide or more): tools | 3D view | results, side by side. Narrower:

- portrait (a phone, a tablet held upright): the 3D view on top (``VIEW_SHARE`` of the height, less
  while a tab to read or answer is open), the tools below it; on a tablet (700 px or wider) the results sit beside the tools, on a phone they
  are the tools' "Results" tab;
- landscape (a phone on its side, a small window): the tools on the left, the view beside them,
  the results again in the "Results" tab.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

CSS_DIR = Path(__file__).resolve().parent / "css"

STACKED = "(max-width: 999px) and (orientation: portrait)"
SPLIT = "(min-width: 700px) and (max-width: 999px) and (orientation: portrait)"
PHONE = "(max-width: 699px) and (orientation: portrait)"
SIDEWAYS = "(max-width: 999px) and (orientation: landscape)"
RESULTS_IN_TAB = f"{PHONE}, {SIDEWAYS}"
NARROW = "(max-width: 999px)"
RESULTS_TAB = 1            # index of the tools' "Results" tab (shown only where RESULTS_IN_TAB holds)
VIEW_SHARE = "64%"         # of the height under the header, for the 3D view on a portrait screen
READING_VIEW_SHARE = "30%"  # the same while a tab to read or answer is open (Questions, Learn, My maps)

_NAMES = {
    "STACKED": STACKED, "SPLIT": SPLIT, "PHONE": PHONE, "SIDEWAYS": SIDEWAYS, "RESULTS_IN_TAB": RESULTS_IN_TAB,
    "NARROW": NARROW, "VIEW_SHARE": VIEW_SHARE, "READING_VIEW_SHARE": READING_VIEW_SHARE, "RESULTS_TAB_CHILD": str(RESULTS_TAB + 1),
}


@cache
def css(name: str) -> str:
    """The style sheet app/css/<name>.css with its ``$NAME`` media queries filled in; a name
    the file uses and this module does not define stops with a KeyError naming it."""
    return Template((CSS_DIR / f"{name}.css").read_text("utf-8")).substitute(_NAMES)


BASE_CSS = css("base")
BIG_BUTTONS = css("buttons")
MODE_CSS = css("mode")
LAYER_CSS = css("layers")
SLIDER_CSS = css("slider")
CHECKS = css("checks")
FOLD_OUT_CSS = css("fold_out")
MAIN_CSS = css("main")
TABS_CSS = css("tabs")
RESULTS_BOX_CSS = css("results_box")
VIEW_AREA_CSS = css("view_area")
PAGE_CSS = css("page")
RESULTS_CSS = css("results")
GLOBAL_CSS = css("global")
PANE_CSS = css("pane")
TEACH_BUTTON_CSS = css("teach_button")
BACK_BUTTON_CSS = css("back_button")
PLAY_BUTTON_CSS = css("play_button")
PRESENTER_CSS = css("presenter_bar")

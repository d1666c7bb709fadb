"""Accessible names the page's widget library leaves out.

Bokeh's sliders draw their handle as a `div role=slider` with no name, so a screen reader
announces "slider" without saying which; the visible title beside it says what it sets. This
component gives each such handle the name of its title (and the arrows of a number box a
name from a11y.yaml), wherever it is (the widgets live in
nested shadow roots), when the page opens and whenever widgets are added later (a tab opened).
"""

from __future__ import annotations

from pathlib import Path

import param
import yaml

from hipviz.app.plain_js import PlainJSComponent

_NAMES = yaml.safe_load((Path(__file__).parent / "a11y.yaml").read_text("utf-8"))


class AriaNames(PlainJSComponent):
    """Names unnamed slider handles after their visible titles, and the number boxes' arrows."""

    names = param.Dict(default=_NAMES)

    _esm = """
    function fix(root, names) {
      for (const [cls, key] of [['bk-spin-btn-up', 'spin_up'], ['bk-spin-btn-down', 'spin_down']])
        for (const b of root.querySelectorAll(`button.${cls}:not([aria-label])`)) b.setAttribute('aria-label', names[key]);
      for (const h of root.querySelectorAll('[role="slider"]:not([aria-label]):not([aria-labelledby])')) {
        const group = h.closest('.bk-input-group') || h.parentElement;
        const title = group && group.querySelector('.bk-slider-title');
        const first = title && title.childNodes.length ? title.childNodes[0].textContent : '';
        const text = (first || '').replace(/[:\\s]+$/, '').trim();   // the title without the value after it
        if (text) h.setAttribute('aria-label', text);
      }
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) fix(el.shadowRoot, names);
    }
    export function render({ model }) {
      // after a click or a key, widgets may arrive over the next moments (a tab built on the
      // server, a re-render): look again every 150 ms for two seconds
      let until = 0, timer = 0;
      const run = () => {
        fix(document, model.names);
        timer = performance.now() < until ? setTimeout(run, 150) : 0;
      };
      const later = () => { until = performance.now() + 2000; if (!timer) timer = setTimeout(run, 150); };
      later();
      // widgets appear later too (a tab's content, a re-render); a click or a key may add some
      document.addEventListener('click', later, true);
      document.addEventListener('keyup', later, true);
      const every = setInterval(() => fix(document, model.names), 3000);
      model.on('remove', () => { clearInterval(every); clearTimeout(timer); document.removeEventListener('click', later, true); document.removeEventListener('keyup', later, true); });
      const d = document.createElement('div');
      d.style.display = 'none';
      return d;
    }
    """

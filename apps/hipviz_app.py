"""Entry point for `panel serve apps/hipviz_app.py` (the `hipviz serve` command does the same
with offline-safe settings). The SQLite file comes from $HIPVIZ_DB or the default data dir."""

from hipviz.app.server import page

page().servable(title="hipviz")

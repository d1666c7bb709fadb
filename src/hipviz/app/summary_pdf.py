"""The one-page PDF summary as a download, for the patient's page, the visits view and the clinic."""

from __future__ import annotations

import io
import logging
import time

log = logging.getLogger(__name__)


def pdf_file(painmap, atlas, previous=None, previous_date=None) -> io.BytesIO:
    """The one-page summary; with `previous` (the person's earlier map) it says what changed."""
    from hipviz import report  # reportlab and the offscreen renderer load only when a PDF is asked for
    t0 = time.perf_counter()
    data = report.pdf_bytes(painmap, atlas=atlas, previous=previous, previous_date=previous_date)
    log.info("summary PDF made in %.1f s (%d bytes)", time.perf_counter() - t0, len(data))
    return io.BytesIO(data)

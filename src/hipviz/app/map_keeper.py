"""One page's keeper of the person's stored maps: saving (merging first when another tab saved
the same map), opening, naming, deleting with undo, importing and exporting, and the camera kept
with each map. The page (layout.HipvizApp) paints and shows; this stores and reads back.

Nothing is stored until something is painted or answered, a failed save keeps everything in
memory and is tried again, and a clinician's read-only view of a shared map is never saved.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import logging
import time
from typing import Callable

import numpy as np

from hipviz.app.autosave import Autosave
from hipviz.app.camera import Camera, CameraSaver, parse_camera
from hipviz.app.maps_tab import MapsTab
from hipviz.app.state import SessionState
from hipviz.app.store import ConflictError, Store, StoreError
from hipviz.app.session import PaintSession
from hipviz.app.viewer import Viewer
from hipviz.painmap import PainMap, PainMapError, migrate_vertex_paint

log = logging.getLogger(__name__)

AUTOSAVE_S = 0.8          # paint is saved once it is this old, during a stroke or with the pointer held still
SAVE_RETRY_S = 5.0        # a failed save is tried again this often, with or without new paint
BLANK = '{"format": "hipviz-painmap", "version": 1}'


def _fmt_time(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%d %b %Y, %H:%M")


class MapKeeper:
    """The stored side of one page's map. `loaded(changed)` is called whenever the session's
    content was replaced or merged from the store (the page recolours those vertices and
    refreshes what shows the map); `set_save_note(html)` puts the save status in the header."""

    def __init__(self, *, store: Store, token: str, session: PaintSession, state: SessionState, viewer: Viewer,
                 tab: MapsTab, atlas, read_only: bool, loaded: Callable[[np.ndarray], None],
                 set_save_note: Callable[[str], None], timers: dict) -> None:
        self.store, self.token, self.session, self.state, self.viewer, self.tab = store, token, session, state, viewer, tab
        self.atlas, self.read_only = atlas, read_only
        self._loaded, self._set_save_note = loaded, set_save_note
        self.version = 1                   # the stored version this page's map is based on
        self.opening = False               # a map is being opened (not a change the person made)
        self._saved_revision = -1
        self._status_stale = False         # a quiet save (during a stroke) left the status line behind
        self._unsaved_since: float | None = None     # when paint not yet saved was first made
        self._deleted: tuple[str, str, str | None] | None = None   # title, document, camera of the last deleted map
        self.camera_saver = CameraSaver(self._write_camera, **timers)
        self.autosave = Autosave(lambda: self.save(status=False), AUTOSAVE_S, SAVE_RETRY_S, **timers)
        t = tab
        t.maps_select.param.watch(self._on_map_select, "value")
        t.new_map_btn.on_click(self.new_map)
        t.title_input.param.watch(self._on_rename, "value")
        t.delete_btn.on_click(self._ask_delete)
        t.delete_yes.on_click(self._on_delete)
        t.delete_no.on_click(lambda e: self._set_delete_prompt(False))
        t.undo_delete_btn.on_click(self._undo_delete)
        t.import_input.on_file(self._on_import)
        t.import_input.on_error(self._show_import_error)

    @property
    def map_id(self) -> int | None:
        return self.state.map.map_id

    @map_id.setter
    def map_id(self, value: int | None) -> None:
        self.state.map.map_id = value

    def note_paint(self, now: float) -> None:
        """Paint not yet stored was made: saved within AUTOSAVE_S even if the pointer stops here,
        and during a long stroke once the oldest unsaved paint is that old."""
        if self._unsaved_since is None:
            self._unsaved_since = now
            self.autosave.changed()
        elif now - self._unsaved_since >= AUTOSAVE_S:
            self.save(status=False)

    def camera_changed(self, camera: Camera) -> None:
        self.camera_saver.changed(self.map_id, camera)

    def save(self, status: bool = True) -> None:
        """Store the map if it changed. A blank map is stored only once something is painted or
        answered; a save based on an older version (another tab saved meanwhile) merges first.
        A failed save keeps everything in memory and says so; the next change tries again.
        With status=False (the autosave during a stroke) the status line is left for the stroke's
        end, unless there is something to tell (an error, a merge, a new map)."""
        if self.read_only:         # a clinician's view of a shared map is never saved
            return
        if self.session.revision == self._saved_revision:
            if status and self._status_stale:
                self._show_saved(False)
            return
        if self.map_id is None and self.session.is_blank():
            return
        merged = False
        tell = status or self.map_id is None or "hv-error" in (self.tab.saved_msg.object or "")
        try:
            if self.map_id is None:
                self._create_stored_map()
            else:
                merged = self._save_versioned()
        except Exception as e:  # never lose the in-memory state because a save failed
            log.warning("saving map %s failed: %s", self.map_id, e, exc_info=not isinstance(e, StoreError))
            msg = e.user_message if isinstance(e, StoreError) else f"Could not save: {e}"
            self.tab.saved_msg.object = f"<p class='hv-error' role='alert'>{html.escape(msg)}</p>"
            self._set_save_note(f"<span class='hv-save hv-save-err' role='alert' title='{html.escape(msg, quote=True)}'>"
                                "Not saved<span class='hv-long'>: kept in this page, trying again</span></span>")
            self._unsaved_since = time.monotonic()
            self.autosave.failed()       # tried again in SAVE_RETRY_S, even if nothing changes
            return
        self._saved_revision = self.session.revision
        self._unsaved_since = None
        self.autosave.saved()
        if tell or merged:
            self._show_saved(merged)
        else:
            self._status_stale = True

    def _show_saved(self, merged: bool) -> None:
        self._status_stale = False
        note = " It was also changed in another tab; both are kept." if merged else ""
        where = " on this computer" if self.store.dialect == "sqlite" else ""
        # to the minute: saves within one minute change nothing on the page (no patch to send)
        at = time.strftime('%H:%M')
        self.tab.saved_msg.object = f"<p class='hv-muted'>Saved{where} at {at}.{note}</p>"
        self._set_save_note(f"<span class='hv-save' role='status'>✓ Saved<span class='hv-long'>{where}</span> {at}</span>")

    def _create_stored_map(self) -> None:
        """The first thing painted or answered: the map (and the person) is stored now, with the
        view it was painted from."""
        self.map_id = self.store.create_map(self.token, self.state.map.document())
        self.version = 1
        cam = parse_camera(self.viewer.camera) if self.viewer._camera_set else None
        if cam is not None:
            self.camera_saver.changed(self.map_id, cam)
        self._refresh_maps()

    def _save_versioned(self) -> bool:
        """Save on the version this page is based on; True if another tab's changes were merged."""
        merged = False
        for _ in range(3):
            try:
                self.version = self.store.save_map(self.token, self.map_id, self.state.map.document(), base_version=self.version)
                return merged
            except ConflictError:      # another tab saved this map: keep both, then save
                merged = self._merge_stored() or merged
            except KeyError:           # another tab deleted it: keep this page's as a new map
                self._create_stored_map()
                return False
        raise StoreError("This map keeps changing in another tab; it was not saved here.")

    def _merge_stored(self) -> bool:
        """Fold the stored version of this map (saved by another tab) into this page's; True if
        it changed what this page shows."""
        stored = self.store.get_map(self.token, self.map_id)
        self.version = stored.version
        try:
            pm = PainMap.from_json(stored.document, self.session.labels)
        except PainMapError:
            return False                    # unreadable here: this page's map replaces it
        self._loaded(self.session.merge(pm))
        return True

    def _refresh_maps(self) -> None:
        maps = self.store.list_maps(self.token)
        opts = {f"{m.title} — {_fmt_time(m.updated)}": m.id for m in maps}
        self.opening = True
        try:
            self.tab.maps_select.options = opts
            self.tab.maps_select.value = self.map_id
            current = next((m for m in maps if m.id == self.map_id), None)
            self.tab.title_input.value = current.title if current else ""
        finally:
            self.opening = False
        if not self.read_only:
            self.tab.share.refresh()

    def page_gone(self) -> None:
        """The page closed or lost its server: keep its last camera and any paint not yet saved
        (a stroke cut off mid-way)."""
        self.autosave.saved()
        self.camera_saver.flush()
        try:
            self.save(status=False)
        except Exception:  # noqa: BLE001 - nothing is left to tell; the log keeps it
            log.exception("saving map %s as its page went failed", self.map_id)

    def _write_camera(self, map_id: int | None, camera: Camera) -> None:
        if map_id is not None:          # a map not stored yet keeps no camera
            self.store.save_camera(self.token, map_id, camera.to_json())

    def _restore_camera(self, map_id: int, initial: bool) -> None:
        """Look at the map from its kept camera; a map without one (or with one that does not
        read as a camera) opens at the default view."""
        try:
            raw = self.store.load_camera(self.token, map_id) if map_id is not None else None
        except KeyError:
            raw = None
        cam = parse_camera(raw)
        if raw is not None and cam is None:
            log.warning("stored camera of map %s ignored: %.80r", map_id, raw)
        if cam is not None:
            self.viewer.set_camera(cam)
        elif initial:
            self.viewer.camera = self.viewer._preset("reset")   # the view starts there by itself
        else:
            self.viewer.set_view("reset")

    def open_map(self, map_id: int | None, initial: bool = False) -> None:
        """Open a stored map, or (None) a blank one that is stored once something is painted."""
        self.camera_saver.flush()          # the camera of the map being left is kept first
        stored = self.store.get_map(self.token, map_id) if map_id is not None else None
        self.show_document(stored.document if stored is not None else BLANK, map_id,
                            stored.version if stored is not None else 1, initial)

    def _painmap_from_text(self, text: str, map_label) -> tuple[PainMap, str]:
        """The document as a pain map on this skin, and a note if it had to be carried over."""
        try:
            return PainMap.from_json(text, self.session.labels), ""
        except PainMapError as e:
            # painted on another version of the body model: carry the paint over where the atlas
            # ships a vertex map from that skin, else keep the painted areas (regions), which the
            # document carries beside the per-vertex paint
            try:
                pm = PainMap.from_json(text)
                migration = (self.atlas.skin_migration(pm.vertex_paint.skin_sha256)
                             if pm.vertex_paint is not None and hasattr(self.atlas, "skin_migration") else None)
                if migration is not None:
                    pm = migrate_vertex_paint(pm, *migration, self.session.labels)
                    note = "This map was drawn on an earlier version of the 3D body; its paint was carried over to this one."
                else:
                    pm = pm.model_copy(update={"vertex_paint": None})
                    note = "This map was drawn on an earlier version of the 3D body; its painted areas were carried over."
            except PainMapError:
                pm = PainMap.from_dict({"format": "hipviz-painmap", "version": 1})
                note = "This stored map could not be read; it was left unchanged in the database."
            log.warning("stored map %s: %s (%s)", map_label, note, e)
            return pm, note

    def show_document(self, text: str, map_id: int | None, version: int, initial: bool, map_label=None) -> None:
        pm, note = self._painmap_from_text(text, map_label if map_label is not None else map_id)
        old = self.session.painted_indices()
        self.session.load(pm)
        self.map_id = map_id
        self.version = version
        self._saved_revision = self.session.revision
        self._restore_camera(map_id, initial)
        self._refresh_maps()
        self._loaded(np.union1d(old, self.session.painted_indices()))
        if note:
            self.tab.saved_msg.object = f"<p class='hv-error'>{html.escape(note)}</p>"

    def _on_map_select(self, event) -> None:
        if self.opening or event.new is None or event.new == self.map_id:
            return
        self.session.end_stroke()
        self.save()
        self.open_map(int(event.new))

    def new_map(self, event=None) -> None:
        self.session.end_stroke()
        self.save()
        self.open_map(None)

    def _on_rename(self, event) -> None:
        if self.opening or not event.new.strip():
            return
        if self.map_id is None:           # naming a blank map keeps it
            self.map_id = self.store.create_map(self.token, self.state.map.document(), title=event.new)
            self._saved_revision = self.session.revision
        else:
            self.store.rename_map(self.token, self.map_id, event.new)
        self._refresh_maps()

    def _set_delete_prompt(self, on: bool) -> None:
        title = next((m.title for m in self.store.list_maps(self.token) if m.id == self.map_id), "this map")
        self.tab.delete_prompt.object = (f"<p class='hv-confirm' role='alert'>Delete <b>{html.escape(title)}</b> and everything "
                                     "painted and answered in it?</p>") if on else ""
        self.tab.delete_prompt.visible = self.tab.delete_confirm.visible = on
        self.tab.delete_btn.visible = not on

    def _ask_delete(self, event=None) -> None:
        if self.map_id is None:
            self.tab.saved_msg.object = "<p class='hv-muted'>This map is not saved yet: there is nothing to delete.</p>"
            return
        self._set_delete_prompt(True)

    def _on_delete(self, event=None) -> None:
        self._set_delete_prompt(False)
        self.session.end_stroke()
        self.save()
        self.camera_saver.flush()
        title = next((m.title for m in self.store.list_maps(self.token) if m.id == self.map_id), "Pain map")
        self._deleted = (title, self.store.load_map(self.token, self.map_id), self.store.load_camera(self.token, self.map_id))
        self.camera_saver.discard()
        self.store.delete_map(self.token, self.map_id)
        self.open_map(self.store.latest_map(self.token))
        self.tab.undo_delete_btn.visible = True
        self.tab.saved_msg.object = f"<p class='hv-muted'>Deleted <b>{html.escape(title)}</b>.</p>"

    def _undo_delete(self, event=None) -> None:
        if self._deleted is None:
            return
        title, document, camera = self._deleted
        self._deleted = None
        self.tab.undo_delete_btn.visible = False
        self.session.end_stroke()
        self.save()
        restored = self.store.create_map(self.token, document, title=title)
        if camera:
            self.store.save_camera(self.token, restored, camera)
        self.open_map(restored)
        self.tab.saved_msg.object = f"<p class='hv-muted'>Brought back <b>{html.escape(title)}</b>.</p>"

    def export_json(self) -> io.StringIO:
        self.session.end_stroke()
        return io.StringIO(self.session.painmap().to_json())

    def import_document(self, raw: bytes | str, filename: str = "") -> str | None:
        """Import a pain map file as a new map; returns the rejection message, or None."""
        try:
            pm = PainMap.from_json(raw, self.session.labels)
        except PainMapError as e:
            return str(e)
        self.session.end_stroke()
        self.save()
        title = (filename.rsplit("/", 1)[-1].removesuffix(".json") or "Imported map")[:60]
        new_id = self.store.create_map(self.token, pm.to_json(indent=None), title=f"{title} (imported)")
        self.open_map(new_id)
        return None

    def _show_import_error(self, err: str) -> None:
        self.tab.import_msg.object = f"<div class='hv-import-error' role='alert'><b>This file was not opened.</b> {html.escape(err)}</div>"
        self.tab.import_msg.visible = True

    def _on_import(self, name: str, text: str) -> None:
        err = self.import_document(text, name)
        if err:
            self._show_import_error(err)
        else:
            self.tab.import_msg.visible = False
            self.tab.saved_msg.object = "<p class='hv-muted'>The file was opened as a new map.</p>"

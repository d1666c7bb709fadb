"""Clinic mode, at the store level: clinician accounts, their sign-in sessions, maps a patient
shares by a short code, and the log of every read of a shared map.

- A clinician has a user name and a password, kept only as an argon2id hash (argon2-cffi, with
  its RFC 9106 defaults); a sign-in gives a random session value for an HttpOnly cookie, of
  which the database keeps only the SHA-256, so a copy of the database opens no session.
- A patient needs no account: from their own map (their token) they make a share code, eight
  letters and digits without look-alikes (e.g. `KX4M-9TQC`), and tell it to their clinician. The
  first clinician who enters it before it expires (7 days) is the one who may read that map,
  until the patient revokes it. Wrong codes are refused and logged; after `MAX_REFUSED` of them
  within `REFUSED_WINDOW_S` a clinician must wait.
- A clinician sees the maps shared with them and no other. Every read of a shared map writes
  an access log entry in the same transaction as the read (no read without its entry; if the
  entry cannot be written, the read fails), and the patient can see who read their map when.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hipviz.app.dbschema import access_log, clinician_sessions, clinicians, maps, shares
from hipviz.app.store import Store

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"   # no 0/O, 1/I/L or U/V pairs to misread
CODE_LENGTH = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10
SESSION_S = 12 * 3600          # a clinician signs in again after 12 hours
SHARE_S = 7 * 24 * 3600        # an unclaimed code expires after a week
MAX_REFUSED = 10               # wrong share codes a clinician may enter ...
REFUSED_WINDOW_S = 15 * 60     # ... within this time


class ClinicError(Exception):
    """A refused clinic action; the message is fit to show."""


class TooManyAttempts(ClinicError):
    pass


@dataclass(frozen=True)
class Clinician:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class Share:
    code: str
    map_id: int
    created: float
    expires: float
    clinician: str | None       # who claimed it (display name), None while unclaimed
    claimed: float | None
    revoked: float | None


@dataclass(frozen=True)
class SharedMap:
    map_id: int
    title: str
    updated: float
    code: str
    claimed: float


@dataclass(frozen=True)
class AccessEntry:
    at: float
    clinician_id: int | None
    clinician: str | None
    map_id: int | None
    share_code: str | None
    action: str                 # claim, read or refused


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", str(code)).upper()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _hash_session(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Clinic:
    def __init__(self, store: Store, hasher: PasswordHasher | None = None, clock: Callable[[], float] = time.time):
        self.store = store
        self.hasher = hasher or PasswordHasher()
        self.clock = clock
        self._dummy_hash: str | None = None

    # ---- accounts -----------------------------------------------------------------------------
    def _check_password(self, password: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise ClinicError(f"a password needs at least {MIN_PASSWORD} characters")

    def add_clinician(self, username: str, password: str, display_name: str | None = None) -> int:
        username = str(username).strip().lower()
        if not USERNAME_RE.match(username):
            raise ClinicError("a user name is 2 to 64 lower-case letters, digits, or . _ @ -")
        self._check_password(password)
        pw_hash = self.hasher.hash(password)
        with self.store.transaction(write=True) as c:
            if c.execute(sa.select(clinicians.c.id).where(clinicians.c.username == username)).first() is not None:
                raise ClinicError(f"the user name {username!r} is taken")
            res = c.execute(clinicians.insert().values(username=username, display_name=(display_name or username).strip()[:80],
                                                       password_hash=pw_hash, created=self.clock(), active=True))
            return int(res.inserted_primary_key[0])

    def set_password(self, clinician_id: int, password: str) -> None:
        """A new password; every session of that clinician ends."""
        self._check_password(password)
        pw_hash = self.hasher.hash(password)
        with self.store.transaction(write=True) as c:
            c.execute(clinicians.update().where(clinicians.c.id == int(clinician_id)).values(password_hash=pw_hash))
            c.execute(clinician_sessions.delete().where(clinician_sessions.c.clinician_id == int(clinician_id)))

    def deactivate(self, clinician_id: int) -> None:
        """No more sign-ins or reads for this account; its log entries stay."""
        with self.store.transaction(write=True) as c:
            c.execute(clinicians.update().where(clinicians.c.id == int(clinician_id)).values(active=False))
            c.execute(clinician_sessions.delete().where(clinician_sessions.c.clinician_id == int(clinician_id)))

    def sign_in(self, username: str, password: str) -> str | None:
        """A session value for an HttpOnly cookie, or None (unknown user, wrong password or a
        deactivated account: the same answer, after the same work)."""
        username = str(username).strip().lower()
        with self.store.transaction() as c:
            row = c.execute(sa.select(clinicians.c.id, clinicians.c.password_hash, clinicians.c.active)
                            .where(clinicians.c.username == username)).one_or_none()
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
            self._verify(self._dummy_hash, password)
            return None
        if not self._verify(row.password_hash, password) or not row.active:
            return None
        value = secrets.token_urlsafe(32)
        now = self.clock()
        with self.store.transaction(write=True) as c:
            if self.hasher.check_needs_rehash(row.password_hash):   # stronger settings since: upgrade the hash
                c.execute(clinicians.update().where(clinicians.c.id == row.id).values(password_hash=self.hasher.hash(password)))
            c.execute(clinician_sessions.delete().where(clinician_sessions.c.expires < now))
            c.execute(clinician_sessions.insert().values(token_hash=_hash_session(value), clinician_id=row.id,
                                                         created=now, expires=now + SESSION_S))
        return value

    def _verify(self, pw_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(pw_hash, str(password))
        except (VerificationError, InvalidHashError):
            return False

    def clinician_for(self, session_value: str | None) -> Clinician | None:
        """The signed-in clinician for a cookie value, or None (unknown, expired, signed out)."""
        if not session_value:
            return None
        with self.store.transaction() as c:
            row = c.execute(sa.select(clinicians.c.id, clinicians.c.username, clinicians.c.display_name)
                            .join(clinician_sessions, clinician_sessions.c.clinician_id == clinicians.c.id)
                            .where(clinician_sessions.c.token_hash == _hash_session(session_value),
                                   clinician_sessions.c.expires > self.clock(), clinicians.c.active.is_(True))).one_or_none()
        return Clinician(int(row.id), row.username, row.display_name) if row else None

    def sign_out(self, session_value: str) -> None:
        with self.store.transaction(write=True) as c:
            c.execute(clinician_sessions.delete().where(clinician_sessions.c.token_hash == _hash_session(session_value)))

    # ---- the patient's side -----------------------------------------------------------------
    def share_map(self, token: str, map_id: int, valid_s: float = SHARE_S) -> str:
        """A new share code for one of this person's maps (KeyError if it is not theirs)."""
        self.store._check(token)
        now = self.clock()
        with self.store.transaction(write=True) as c:
            if c.execute(sa.select(maps.c.id).where(maps.c.id == int(map_id), maps.c.token == token)).first() is None:
                raise KeyError(f"no map {map_id} for this session")
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if c.execute(sa.select(shares.c.code).where(shares.c.code == code)).first() is None:
                    break
            c.execute(shares.insert().values(code=code, map_id=int(map_id), token=token, created=now, expires=now + valid_s))
        return code

    def shares_of(self, token: str) -> list[Share]:
        self.store._check(token)
        with self.store.transaction() as c:
            rows = c.execute(sa.select(shares, clinicians.c.display_name)
                             .outerjoin(clinicians, clinicians.c.id == shares.c.clinician_id)
                             .where(shares.c.token == token).order_by(shares.c.created.desc())).all()
        return [Share(r.code, int(r.map_id), r.created, r.expires, r.display_name, r.claimed, r.revoked) for r in rows]

    def revoke_share(self, token: str, code: str) -> bool:
        """Stop sharing: the clinician no longer sees the map. False if there was no such code."""
        self.store._check(token)
        with self.store.transaction(write=True) as c:
            res = c.execute(shares.update().where(shares.c.code == normalise_code(code), shares.c.token == token,
                                                  shares.c.revoked.is_(None)).values(revoked=self.clock()))
            return res.rowcount == 1

    def reads_of(self, token: str, map_id: int) -> list[AccessEntry]:
        """Who read this person's map, and when (the patient's view of the log)."""
        self.store._check(token)
        with self.store.transaction() as c:
            if c.execute(sa.select(maps.c.id).where(maps.c.id == int(map_id), maps.c.token == token)).first() is None:
                raise KeyError(f"no map {map_id} for this session")
        return self.audit(map_id=map_id)

    # ---- the clinician's side -----------------------------------------------------------------
    def _log(self, c, clinician_id, map_id, code, action) -> None:
        c.execute(access_log.insert().values(at=self.clock(), clinician_id=clinician_id, map_id=map_id,
                                             share_code=code, action=action))

    def claim(self, clinician_id: int, code: str) -> SharedMap:
        """Enter a patient's share code: the map is shared with this clinician from now on.
        Unknown, expired, revoked or already claimed (by another) codes are refused alike."""
        code = normalise_code(code)
        now = self.clock()
        refused = False
        with self.store.transaction(write=True) as c:
            recent = c.execute(sa.select(sa.func.count()).select_from(access_log)
                               .where(access_log.c.clinician_id == int(clinician_id), access_log.c.action == "refused",
                                      access_log.c.at > now - REFUSED_WINDOW_S)).scalar_one()
            if recent >= MAX_REFUSED:
                raise TooManyAttempts("too many wrong share codes; try again in a few minutes")
            row = c.execute(sa.select(shares.c.map_id, shares.c.expires, shares.c.clinician_id, shares.c.claimed, shares.c.revoked)
                            .where(shares.c.code == code)).one_or_none()
            ok = (row is not None and row.revoked is None and
                  (row.clinician_id == int(clinician_id) or (row.clinician_id is None and row.expires > now)))
            if ok and row.clinician_id is None:
                c.execute(shares.update().where(shares.c.code == code, shares.c.clinician_id.is_(None))
                          .values(clinician_id=int(clinician_id), claimed=now))
                self._log(c, int(clinician_id), int(row.map_id), code, "claim")
            elif not ok:
                self._log(c, int(clinician_id), int(row.map_id) if row is not None else None, code[:16], "refused")
                refused = True
        if refused:
            raise ClinicError("this share code is not valid: check it with the patient, or ask them for a new one")
        return next(m for m in self.shared_maps(clinician_id) if m.code == code)

    def shared_maps(self, clinician_id: int) -> list[SharedMap]:
        """The maps shared with this clinician (claimed by them, not revoked), newest first."""
        with self.store.transaction() as c:
            rows = c.execute(sa.select(maps.c.id, maps.c.title, maps.c.updated, shares.c.code, shares.c.claimed)
                             .join(shares, shares.c.map_id == maps.c.id)
                             .join(clinicians, clinicians.c.id == shares.c.clinician_id)
                             .where(shares.c.clinician_id == int(clinician_id), shares.c.revoked.is_(None),
                                    clinicians.c.active.is_(True))
                             .order_by(maps.c.updated.desc(), maps.c.id.desc())).all()
        seen, out = set(), []
        for r in rows:
            if r.id not in seen:
                seen.add(r.id)
                out.append(SharedMap(int(r.id), r.title, float(r.updated), r.code, float(r.claimed)))
        return out

    def read_shared_map(self, clinician_id: int, map_id: int) -> str:
        """The document of a map shared with this clinician; the read is logged in the same
        transaction. KeyError (also logged) if it is not shared with them."""
        with self.store.transaction(write=True) as c:
            row = c.execute(sa.select(maps.c.document, shares.c.code)
                            .join(shares, shares.c.map_id == maps.c.id)
                            .join(clinicians, clinicians.c.id == shares.c.clinician_id)
                            .where(maps.c.id == int(map_id), shares.c.clinician_id == int(clinician_id),
                                   shares.c.revoked.is_(None), clinicians.c.active.is_(True))
                            .order_by(shares.c.claimed)).first()
            self._log(c, int(clinician_id), int(map_id), row.code if row else None, "read" if row else "refused")
        if row is None:
            raise KeyError(f"map {map_id} is not shared with this clinician")
        return row.document

    def audit(self, map_id: int | None = None, clinician_id: int | None = None) -> list[AccessEntry]:
        """The access log, oldest first, for one map, one clinician, or all."""
        q = (sa.select(access_log, clinicians.c.display_name)
             .outerjoin(clinicians, clinicians.c.id == access_log.c.clinician_id)
             .order_by(access_log.c.at, access_log.c.id))
        if map_id is not None:
            q = q.where(access_log.c.map_id == int(map_id))
        if clinician_id is not None:
            q = q.where(access_log.c.clinician_id == int(clinician_id))
        with self.store.transaction() as c:
            rows = c.execute(q).all()
        return [AccessEntry(r.at, r.clinician_id, r.display_name, r.map_id, r.share_code, r.action) for r in rows]

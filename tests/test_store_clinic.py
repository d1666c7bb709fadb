"""Clinic mode at the store level, on SQLite and PostgreSQL: clinicians sign in (argon2id hashes,
sessions by a cookie value the database keeps only as a hash), a patient shares a map by a short
code without an account, a clinician sees only the maps shared with them, and every read of a
shared map is logged."""

import hashlib

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from hipviz.app.clinic import (
    CODE_ALPHABET,
    MAX_REFUSED,
    SESSION_S,
    SHARE_S,
    Clinic,
    ClinicError,
    TooManyAttempts,
    format_code,
)
from hipviz.app.dbschema import clinician_sessions, clinicians
from hipviz.app.store import new_token

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)   # fast for tests; production uses the defaults


class Clock:
    def __init__(self):
        self.t = 1_800_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clinic(store):
    return Clinic(store, hasher=CHEAP, clock=Clock())


def test_passwords_are_stored_as_argon2id_hashes_only(clinic):
    cid = clinic.add_clinician("Dr.Lee", "correct horse battery", "Dr Lee")
    with clinic.store.engine.connect() as c:
        stored = c.execute(sa.select(clinicians.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert clinic.sign_in("dr.lee", "wrong password!") is None
    assert clinic.sign_in("nobody", "correct horse battery") is None
    value = clinic.sign_in(" DR.LEE ", "correct horse battery")
    who = clinic.clinician_for(value)
    assert who is not None and (who.id, who.username, who.display_name) == (cid, "dr.lee", "Dr Lee")
    with clinic.store.engine.connect() as c:                   # only the cookie's hash is kept
        kept = c.execute(sa.select(clinician_sessions.c.token_hash)).scalars().all()
    assert kept == [hashlib.sha256(value.encode()).hexdigest()] and value not in kept
    with pytest.raises(ClinicError, match="taken"):
        clinic.add_clinician("dr.lee", "another long password")
    with pytest.raises(ClinicError, match="at least"):
        clinic.add_clinician("dr.short", "short")
    with pytest.raises(ClinicError, match="user name"):
        clinic.add_clinician("no spaces allowed", "long enough password")


def test_sessions_end_on_sign_out_expiry_password_change_and_deactivation(clinic):
    cid = clinic.add_clinician("physio", "a long password 1")
    s1 = clinic.sign_in("physio", "a long password 1")
    clinic.sign_out(s1)
    assert clinic.clinician_for(s1) is None
    s2 = clinic.sign_in("physio", "a long password 1")
    clinic.clock.t += SESSION_S + 1
    assert clinic.clinician_for(s2) is None                     # expired
    s3 = clinic.sign_in("physio", "a long password 1")
    clinic.set_password(cid, "a new long password")
    assert clinic.clinician_for(s3) is None and clinic.sign_in("physio", "a long password 1") is None
    s4 = clinic.sign_in("physio", "a new long password")
    clinic.deactivate(cid)
    assert clinic.clinician_for(s4) is None and clinic.sign_in("physio", "a new long password") is None
    assert clinic.clinician_for(None) is None and clinic.clinician_for("made-up") is None


def test_weaker_hashes_are_upgraded_at_sign_in(store):
    old = Clinic(store, hasher=CHEAP)
    old.add_clinician("gp", "a long password 2")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert Clinic(store, hasher=stronger).sign_in("gp", "a long password 2")
    with store.engine.connect() as c:
        assert "t=2" in c.execute(sa.select(clinicians.c.password_hash)).scalar_one()


def test_a_clinician_sees_only_the_maps_shared_with_them_and_every_read_is_logged(clinic):
    store = clinic.store
    lee = clinic.add_clinician("lee", "password for lee")
    kim = clinic.add_clinician("kim", "password for kim", "Dr Kim")
    patient, other = new_token(), new_token()
    m = store.create_map(patient, '{"hurts": "hip"}', title="Left hip")
    private = store.create_map(patient, '{"hurts": "knee"}')
    elsewhere = store.create_map(other, "{}")
    code = clinic.share_map(patient, m)
    assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
    with pytest.raises(KeyError):
        clinic.share_map(patient, elsewhere)                     # not their map
    assert clinic.shared_maps(kim) == []
    with pytest.raises(KeyError):
        clinic.read_shared_map(kim, m)                           # not shared yet
    got = clinic.claim(kim, format_code(code).lower())          # typed as shown, any case
    assert (got.map_id, got.title) == (m, "Left hip")
    assert [s.map_id for s in clinic.shared_maps(kim)] == [m] and clinic.shared_maps(lee) == []
    with pytest.raises(ClinicError):
        clinic.claim(lee, code)                                  # one code, one clinician
    assert clinic.read_shared_map(kim, m) == '{"hurts": "hip"}'
    clinic.read_shared_map(kim, m)
    for not_shared in (private, elsewhere):
        with pytest.raises(KeyError):
            clinic.read_shared_map(kim, not_shared)
    with pytest.raises(KeyError):
        clinic.read_shared_map(lee, m)
    log = clinic.audit(map_id=m)
    assert [(e.action, e.clinician_id) for e in log] == [("refused", kim), ("claim", kim), ("refused", lee),
                                                          ("read", kim), ("read", kim), ("refused", lee)]
    assert clinic.reads_of(patient, m)[3].clinician == "Dr Kim"   # the patient sees who read it
    with pytest.raises(KeyError):
        clinic.reads_of(other, m)
    assert [s.clinician for s in clinic.shares_of(patient)] == ["Dr Kim"]
    # the patient stops sharing: gone from the clinician's list, and reads refused
    assert clinic.revoke_share(patient, code) and not clinic.revoke_share(other, code)
    assert clinic.shared_maps(kim) == []
    with pytest.raises(KeyError):
        clinic.read_shared_map(kim, m)


def test_codes_expire_unclaimed_and_die_with_their_map(clinic):
    kim = clinic.add_clinician("kim", "password for kim")
    patient = new_token()
    m = clinic.store.create_map(patient, "{}")
    late = clinic.share_map(patient, m)
    clinic.clock.t += SHARE_S + 1
    with pytest.raises(ClinicError):
        clinic.claim(kim, late)
    code = clinic.share_map(patient, m)
    clinic.claim(kim, code)
    clinic.clock.t += 10 * SHARE_S                               # a claimed share does not expire
    assert [s.map_id for s in clinic.shared_maps(kim)] == [m]
    clinic.store.delete_map(patient, m)
    assert clinic.shared_maps(kim) == [] and clinic.shares_of(patient) == []
    assert [e.action for e in clinic.audit(clinician_id=kim)] == ["refused", "claim"]   # the log stays


def test_guessing_codes_is_cut_short(clinic):
    kim = clinic.add_clinician("kim", "password for kim")
    patient = new_token()
    code = clinic.share_map(patient, clinic.store.create_map(patient, "{}"))
    for _ in range(MAX_REFUSED):
        with pytest.raises(ClinicError):
            clinic.claim(kim, "AAAA-AAAA")
    with pytest.raises(TooManyAttempts):
        clinic.claim(kim, code)                                  # even the right one, for now
    clinic.clock.t += 16 * 60
    assert clinic.claim(kim, code).code == code


def test_a_read_that_cannot_be_logged_does_not_happen(clinic):
    """No read without its log entry: with the log unwritable, the read fails."""
    kim = clinic.add_clinician("kim", "password for kim")
    patient = new_token()
    m = clinic.store.create_map(patient, '{"x": 1}')
    clinic.claim(kim, clinic.share_map(patient, m))
    with clinic.store.engine.begin() as c:
        c.exec_driver_sql("ALTER TABLE access_log RENAME TO access_log_gone")
    with pytest.raises(Exception):
        clinic.read_shared_map(kim, m)
    with clinic.store.engine.begin() as c:
        c.exec_driver_sql("ALTER TABLE access_log_gone RENAME TO access_log")
    assert clinic.read_shared_map(kim, m) == '{"x": 1}'
    assert [e.action for e in clinic.audit(map_id=m)] == ["claim", "read"]


def test_clinic_command_adds_accounts_and_prints_the_log(store_url, monkeypatch, capsys):
    import io

    from hipviz.app.store import Store
    from hipviz.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 3\n"))
    assert main(["clinic", "add-clinician", "Dr.Lee", "--name", "Dr Lee", "--password-stdin", "--db", store_url]) == 0
    assert "dr.lee added" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["clinic", "add-clinician", "kim", "--password-stdin", "--db", store_url]) == 2
    assert "at least" in capsys.readouterr().err
    store = Store(store_url)
    clinic = Clinic(store)
    lee = clinic.clinician_for(clinic.sign_in("dr.lee", "a long password 3"))
    patient = new_token()
    m = store.create_map(patient, "{}")
    clinic.claim(lee.id, clinic.share_map(patient, m))
    clinic.read_shared_map(lee.id, m)
    assert main(["clinic", "audit", "--map", str(m), "--db", store_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[1:4] for ln in lines] == [["claim", f"map {m}", "Dr Lee"], ["read", f"map {m}", "Dr Lee"]]
    assert main(["clinic", "deactivate", "dr.lee", "--db", store_url]) == 0
    assert clinic.sign_in("dr.lee", "a long password 3") is None
    assert main(["clinic", "deactivate", "nobody", "--db", store_url]) == 2
    store.close()

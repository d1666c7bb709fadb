"""`hipviz clinic`: clinician accounts and the access log of shared maps, in the same database as
`hipviz serve --db` (a SQLite file or a postgresql:// URL; default $HIPVIZ_DB or the local file).

    hipviz clinic add-clinician USERNAME [--name "Dr A. Lee"] [--password-stdin] [--db URL]
    hipviz clinic deactivate USERNAME [--db URL]
    hipviz clinic audit [--map ID] [--db URL]
"""

from __future__ import annotations

import datetime as _dt
import getpass
import sys


def register(sub) -> None:
    p = sub.add_parser("clinic", help="clinician accounts and the log of reads of shared maps (clinic mode)")
    csub = p.add_subparsers(dest="clinic_command", required=True, metavar="ACTION")
    db_help = "the pain map database: a SQLite file or postgresql://… (default: $HIPVIZ_DB or the local file)"

    a = csub.add_parser("add-clinician", help="create a clinician account (asks for the password)")
    a.add_argument("username")
    a.add_argument("--name", default=None, help="the name patients and the log show (default: the user name)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    a.add_argument("--db", default=None, help=db_help)

    d = csub.add_parser("deactivate", help="stop a clinician's sign-ins and reads (the log keeps their entries)")
    d.add_argument("username")
    d.add_argument("--db", default=None, help=db_help)

    log = csub.add_parser("audit", help="print the log of reads of shared maps, oldest first")
    log.add_argument("--map", type=int, default=None, help="only this map id")
    log.add_argument("--db", default=None, help=db_help)
    p.set_defaults(run=run)


def run(args) -> int:
    import sqlalchemy as sa

    from hipviz.app.clinic import Clinic, ClinicError
    from hipviz.app.dbschema import clinicians
    from hipviz.app.store import Store, StoreError
    from hipviz.cli import UsageError

    try:
        clinic = Clinic(Store(args.db))
    except ValueError as e:
        raise UsageError(f"--db: {e}") from None
    except StoreError as e:
        print(f"hipviz clinic: {e.user_message}", file=sys.stderr)
        return 1
    try:
        if args.clinic_command == "add-clinician":
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass(f"Password for {args.username}: ")
                if getpass.getpass("Again: ") != password:
                    raise UsageError("the two passwords differ")
            try:
                cid = clinic.add_clinician(args.username, password, args.name)
            except ClinicError as e:
                raise UsageError(str(e)) from None
            print(f"clinician {args.username.strip().lower()} added (id {cid}) in {clinic.store.describe()}")
        elif args.clinic_command == "deactivate":
            with clinic.store.transaction() as c:
                cid = c.execute(sa.select(clinicians.c.id).where(clinicians.c.username == args.username.strip().lower())).scalar()
            if cid is None:
                raise UsageError(f"no clinician {args.username!r}")
            clinic.deactivate(cid)
            print(f"clinician {args.username} deactivated")
        else:
            for e in clinic.audit(map_id=args.map):
                when = _dt.datetime.fromtimestamp(e.at).isoformat(timespec="seconds")
                print(f"{when}\t{e.action}\tmap {e.map_id if e.map_id is not None else '-'}\t"
                      f"{e.clinician or e.clinician_id or '-'}\tcode {e.share_code or '-'}")
    except StoreError as e:
        print(f"hipviz clinic: {e.user_message}", file=sys.stderr)
        return 1
    finally:
        clinic.store.close()
    return 0

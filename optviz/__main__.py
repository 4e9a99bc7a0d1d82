"""``optviz serve [--host H] [--port P]`` (``python -m optviz`` does the same): the page
on one machine, with embedded defaults and nothing else to start. Needs the ``web``
extra (``pip install "optviz[web]"``); for a class, serve it with gunicorn (README).
``optviz db-upgrade`` makes class mode's database (OPTVIZ_DB_URL) if it is missing and
applies its migrations."""
from __future__ import annotations

import argparse
import os


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="optviz", description="Serve the optviz page: many "
                                 "optimizers racing on one 2-D loss surface.")
    sub = ap.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the page (the default)")
    for p in (ap, serve):
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                       help="address to listen on (default 127.0.0.1; HOST)")
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8050")),
                       help="port (default 8050; PORT)")
    sub.add_parser("db-upgrade", help="make class mode's database (OPTVIZ_DB_URL) if it "
                   "is missing, and apply its migrations")
    args = ap.parse_args(argv)
    if args.command == "db-upgrade":
        from .web.classroom.store import StorageError, open_store
        try:
            store = open_store(create=True)
        except StorageError as e:
            raise SystemExit(f"optviz db-upgrade: {e.message}") from None
        print(f"optviz: class mode's database {store.dialect}: schema version "
              f"{store.version()}")
        return
    try:
        from .web import create_app
    except ImportError as e:
        raise SystemExit(f"optviz serve needs the page's packages: pip install "
                         f"\"optviz[web]\" ({e.name} is not installed)") from None
    print(f"optviz: http://{args.host}:{args.port}")
    create_app().run(host=args.host, port=args.port, debug=False)


if __name__ == "__main__":
    main()

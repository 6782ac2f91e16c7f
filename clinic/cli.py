"""The `clinic` command: migrate, serve, users, demo data, first-run setup."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from clinic.accounts.roles import ROLES
from clinic.config import (
    DEFAULT_DATABASE_URL,
    ROOT,
    ConfigError,
    Settings,
    display_url,
    is_production,
    migrate_database_url,
    normalize_database_url,
    sqlite_path,
)

# What `clinic` reads from the clone beside the package (an installed wheel has no source tree).
SOURCE_TREE = ("migrations", "templates", "static")


def database_url() -> str:
    return normalize_database_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))


def with_db(action: Callable[[Any], Awaitable[int]], *, writes: bool = True) -> int:
    """Runs `action` on the database named by DATABASE_URL once it is migrated (and writable, for `writes`).
    A failure to reach or open it is turned into one line by `main`."""
    from clinic.db import make_database
    from clinic.schema import State, schema_state

    url = database_url()
    path = sqlite_path(url)
    if path is not None and not path.exists():  # connecting would create an empty file
        raise ConfigError(f"There is no database at {path}: run `clinic migrate` first, or fix DATABASE_URL "
                          "(a relative path is taken from CLINIC_DATA_DIR, else the project directory).")

    async def run() -> int:
        db = make_database(url)
        await db.connect()
        try:
            found = await schema_state(db)
            if found is State.NOT_MIGRATED:
                raise ConfigError(f"The database {display_url(url)} is not at the latest schema: "
                                  "run `clinic migrate` first.")
            if found is State.READ_ONLY and writes:
                raise ConfigError(f"The database {display_url(url)} is read-only: fix its permissions (SQLite) "
                                  "or point DATABASE_URL at a writable primary (PostgreSQL).")
            return await action(db)
        finally:
            await db.disconnect()

    return asyncio.run(run())


def cmd_migrate(args: argparse.Namespace) -> int:
    from clinic.migrate import upgrade

    owner = migrate_database_url()
    if owner is None:
        upgrade(database_url())
    else:  # migrate as the owner, then give the app's user (DATABASE_URL) only the rights it needs
        upgrade(owner, app_url=database_url())
    print("Database is at the latest schema.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from clinic.serving import KEEP_ALIVE_SECONDS, LOOP, PROTOCOL

    settings = Settings.from_env()  # fail early, with a clear message, on bad configuration

    async def ready(db: Any) -> int:  # refuse to serve a database that sign-ins would fail on
        return 0

    with_db(ready)
    print(f"clinic: database {display_url(settings.database_url)}", flush=True)
    uvicorn.run(
        "clinic.main:app", host=args.host, port=args.port, proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        workers=args.workers, log_level="info", http=PROTOCOL, loop=LOOP, timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,  # "server: uvicorn" on every response tells a browser nothing (bytes on a slow link)
    )
    return 0


def read_password() -> str:
    password = os.environ.get("CLINIC_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise ConfigError("Set CLINIC_PASSWORD or run from a terminal to type the password.")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ConfigError("The two passwords differ.")
    return first


def role_list(text: str) -> list[str]:
    """`--role` takes one role or a comma list (admin,registration), and may be repeated."""
    roles = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [role for role in roles if role not in ROLES]
    if not roles or unknown:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {', '.join(map(repr, unknown)) or repr(text)} (choose from {', '.join(ROLES)})")
    return roles


def cmd_user_add(args: argparse.Namespace) -> int:
    from clinic import i18n
    from clinic.accounts import queries
    from clinic.accounts.passwords import MIN_LENGTH
    from clinic.accounts.roles import ordered
    from clinic.accounts.service import check_username
    from clinic.limits import FULL_NAME_CHARS, SIP_CHARS

    i18n.set_locale("en")  # the command line speaks English throughout, like its other messages
    username = args.username.strip().lower()
    if problem := check_username(username):
        raise ConfigError(f"Username {username!r}: {problem}")
    full_name = (args.name or "").strip() or username
    if len(full_name) > FULL_NAME_CHARS:
        raise ConfigError(f"The full name (--name) can have at most {FULL_NAME_CHARS} characters.")
    roles = ordered(role for given in args.role for role in given)
    sip = (args.sip or "").strip() or None
    if sip is not None and len(sip) > SIP_CHARS:
        raise ConfigError(f"The licence number (--sip) can have at most {SIP_CHARS} characters.")
    nik = ""
    if args.nik:  # a doctor's practitioner NIK, for SATUSEHAT
        from clinic.satusehat import practitioners

        nik, problem = practitioners.check(args.nik)
        if problem:
            raise ConfigError(f"--nik: {problem}")
    password = read_password()
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"The password needs at least {MIN_LENGTH} characters.")

    async def add(db: Any) -> int:
        try:
            user_id = await queries.create_user(db, username=username, full_name=full_name,
                                                roles=roles, password=password, sip=sip)
        except queries.UsernameTaken as exc:
            raise ConfigError(f"User {username!r} already exists.") from exc
        if nik:
            from clinic.satusehat import practitioners

            await practitioners.set_nik(db, user_id, nik)
        print(f"User {username} ({', '.join(roles)}) added.")
        return 0

    return with_db(add)


def set_active(args: argparse.Namespace, active: bool) -> int:
    """Disable (which ends the user's sessions) or enable the user named on the command line."""
    from clinic.accounts import queries

    async def change(db: Any) -> int:
        row = await queries.get_user_by_username(db, args.username.strip().lower())
        if row is None:
            raise ConfigError(f"No user {args.username!r}.")
        await queries.set_active(db, row["id"], active)
        print(f"User {row['username']} enabled." if active else
              f"User {row['username']} disabled; their sessions have ended.")
        return 0

    return with_db(change)


def cmd_user_disable(args: argparse.Namespace) -> int:
    return set_active(args, False)


def cmd_user_enable(args: argparse.Namespace) -> int:
    return set_active(args, True)


def cmd_user_list(args: argparse.Namespace) -> int:
    from clinic.accounts import queries

    async def show(db: Any) -> int:
        rows = [(row["username"], ",".join(row["roles"]), "active" if row["active"] else "disabled",
                 "must change password" if row["must_change_password"] else "", row["full_name"])
                for row in await queries.list_users(db)]
        if not rows:
            print("No users yet: `clinic init` creates the first administrator.")
            return 0
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        for row in rows:
            print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=False)) + "  " + row[4])
        return 0

    return with_db(show, writes=False)


def cmd_user_reset(args: argparse.Namespace) -> int:
    from clinic.accounts import queries
    from clinic.accounts.passwords import one_time_password

    async def reset(db: Any) -> int:
        row = await queries.get_user_by_username(db, args.username.strip().lower())
        if row is None:
            raise ConfigError(f"No user {args.username!r}.")
        password = one_time_password()
        await queries.set_password(db, row["id"], password, must_change=True)
        print(f"One-time password for {row['username']}: {password}")
        return 0

    return with_db(reset)


def cmd_init(args: argparse.Namespace) -> int:
    """First run: an admin with a printed one-time password, and demo data on request."""
    from clinic.accounts import queries
    from clinic.accounts.passwords import one_time_password
    from clinic.migrate import upgrade

    production = is_production()  # a misspelt CLINIC_ENV stops here, before anything is written
    upgrade(database_url())  # a brand-new database is usable straight away; at the latest schema, a no-op

    async def init(db: Any) -> int:
        if await queries.count_users(db) > 0:
            print("Users exist already: nothing to do (`clinic user list` shows them).")
            return 0
        password = one_time_password()
        await queries.create_user(db, username="admin", full_name="Administrator", roles=["admin"],
                                  password=password, must_change_password=True)
        print("\n  An administrator account was created.")
        print("    username: admin")
        print(f"    one-time password: {password}")
        print("  You will be asked to choose a new password at the first sign-in.\n")
        if production:  # never demo patients beside real ones
            print("  CLINIC_ENV=production: no demo data.\n")
        elif sys.stdin.isatty():
            answer = input("  Add demo patients and visits so you can try the app? [y/N] ").strip().lower()
            if answer in ("y", "yes", "ya"):
                from clinic.demo import add_demo_data

                print(await add_demo_data(db))
        else:
            print("  (Demo data: run `.venv/bin/clinic demo`.)\n")
        return 0

    return with_db(init)


def cmd_demo(args: argparse.Namespace) -> int:
    from clinic.demo import add_demo_data

    if is_production():
        raise ConfigError("Demo data is never added with CLINIC_ENV=production: its patients are made up.")

    async def demo(db: Any) -> int:
        print(await add_demo_data(db, patients=args.patients))
        return 0

    return with_db(demo)


def cmd_satusehat_send(args: argparse.Namespace) -> int:
    """For cron: send every finished encounter due now, then stop (the server's worker does the same)."""
    from clinic.config import Satusehat
    from clinic.db import fetch_all
    from clinic.satusehat.client import Client
    from clinic.satusehat.sender import drain

    settings = Satusehat.from_env()
    if not settings.enabled:
        raise ConfigError("SATUSEHAT_ENV is off: set it to sandbox or production (README, \"SATUSEHAT\").")

    async def send(db: Any) -> int:
        client = Client(settings)
        try:
            handled = await drain(db, client, settings)
        finally:
            await client.close()
        states = {row["state"]: int(row["n"]) for row in await fetch_all(
            db, "SELECT state, COUNT(*) AS n FROM satusehat_outbox GROUP BY state")}
        print(f"SATUSEHAT: {handled} item(s) handled; {states.get('accepted', 0)} accepted, "
              f"{states.get('waiting', 0)} waiting, {states.get('refused', 0)} refused.")
        return 0

    return with_db(send)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="clinic", description="Offline-first medical record for primary care.")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database to the latest schema").set_defaults(func=cmd_migrate)
    serve = sub.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("init", help="first run: create the admin account").set_defaults(func=cmd_init)
    demo = sub.add_parser("demo", help="add realistic demo patients and visits")
    demo.add_argument("--patients", type=int, default=40)
    demo.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="manage user accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a user (password from CLINIC_PASSWORD or a prompt)")
    add.add_argument("username")
    add.add_argument("--role", required=True, action="append", type=role_list, metavar="ROLE",
                     help=f"one of {', '.join(ROLES)}; repeat it, or give a comma list, for several roles")
    add.add_argument("--name", default="")
    add.add_argument("--sip", default="", help="a doctor's licence number (SIP), printed under the signature line")
    add.add_argument("--nik", default="", help="a doctor's NIK: their Practitioner at SATUSEHAT")
    add.set_defaults(func=cmd_user_add)
    disable = user.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_user_disable)
    enable = user.add_parser("enable", help="let a disabled user sign in again")
    enable.add_argument("username")
    enable.set_defaults(func=cmd_user_enable)
    user.add_parser("list", help="list every user with their roles and state").set_defaults(func=cmd_user_list)
    reset = user.add_parser("reset-password", help="give a user a new one-time password")
    reset.add_argument("username")
    reset.set_defaults(func=cmd_user_reset)
    satusehat = sub.add_parser("satusehat", help="the national platform SATUSEHAT").add_subparsers(
        dest="satusehat_command", required=True)
    satusehat.add_parser("send", help="send every finished encounter due now (for cron)").set_defaults(
        func=cmd_satusehat_send)
    return root


def check_source_tree() -> None:
    missing = [name for name in SOURCE_TREE if not (ROOT / name).is_dir()]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not found in {ROOT}: this `clinic` was installed without its "
                          "source tree; install it from a clone with `pip install -e .` (or `make run`).")


def main(argv: list[str] | None = None) -> int:
    from clinic.dberrors import explain

    args = parser().parse_args(argv)
    try:
        check_source_tree()
        return int(args.func(args))
    except ConfigError as exc:
        print(f"clinic: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database that cannot be reached or opened: one line, no traceback
        try:
            message = explain(exc, database_url())
        except ConfigError:
            message = None
        if message is None:
            raise
        print(f"clinic: {message}", file=sys.stderr)
        return 2

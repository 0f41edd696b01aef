"""``contactcenter serve``: the live engine with its HTTP API and pages, in one process.

Before anything is written, what the server needs is checked (``preflight``: its ports, the
database, no other engine serving it: ``engine_lock``); a problem ends it with one line
(``CannotServe``). First run: default users (``admin``, ``supervisor`` and one per agent,
user name = agent id) get random passwords, written only to ``initial-passwords.txt`` (mode
0600) beside the database; the output names that file, never a password (output ends up in
logs). The chat-token secret lives beside the
database too (``chat-secret``, 0600), so customers' chat links survive a restart, and so do the
keys a site's backend signs its customers' chat identities with (``chat-identity-keys``, 0600,
or ``--chat-identity-keys FILE``; made on first run, named in the output, never printed).
SIGINT/SIGTERM stop the server cleanly.

``standby``: while another engine serves the database, this one checks what it can (config,
keys, the database), holds nothing else, and waits for that engine to end; then it takes the
database's lock, checks its ports (the ended engine's sockets may take a moment to close) and
starts as any restart does (waiting contacts, callbacks and mails come back from the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aiohttp import web

from contactcenter.api.app import build_app
from contactcenter.api.chat_identity import (
    KEYS_FILE,
    ChatIdentity,
    Keyring,
    KeysFileError,
    read_keys,
)
from contactcenter.api.connections import listen
from contactcenter.api.context import Settings
from contactcenter.api.customers import chat_token
from contactcenter.api.demo import LiveDemo
from contactcenter.api.engine_lock import EngineLock, ServerLock, lock_problem
from contactcenter.api.preflight import (
    CannotServe,
    Port,
    check,
    port_problem,
    sealed_data_problem,
)
from contactcenter.config import Center
from contactcenter.identity import format_keys, new_keys
from contactcenter.metrics import Metrics
from contactcenter.runtime import Site
from contactcenter.runtime.heap import HeapKeeper, HeapSettings
from contactcenter.runtime.ports import Edge
from contactcenter.runtime.site import RuntimeSettings
from contactcenter.store.connection import UNREACHABLE_ERRORS, redacted
from contactcenter.store.connection import shown as said_database
from contactcenter.store.data_keys import DEFAULT_NAME as DATA_KEYS_FILE
from contactcenter.store.errors import StoreError
from contactcenter.store.schema import site_schema
from contactcenter.store.store import Store

DEFAULT_DB = Path("var/contactcenter.sqlite3")
PASSWORDS_FILE = "initial-passwords.txt"
SECRET_FILE = "chat-secret"


async def _server_problem(url: str, site: str) -> str | None:
    """Whether another engine serves the PostgreSQL database at ``url`` (its problem, or None);
    ``CannotServe`` when the server cannot be reached (one line, the password left out)."""
    try:
        return await ServerLock.problem(url, site)
    except UNREACHABLE_ERRORS as e:
        raise CannotServe(f"cannot reach the database {redacted(url)}: {e}") from e
    except Exception as e:  # e.g. refused login, no such database
        raise CannotServe(f"cannot use the database {redacted(url)}: {e}") from e


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only the owner can read (0600), replacing any old one."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def chat_secret(state_dir: Path) -> bytes:
    """The server's chat-token secret in its state directory, created on first use."""
    path = state_dir / SECRET_FILE
    if path.exists():
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    data = secrets.token_hex(32).encode()
    _write_private(path, data)
    return data


async def ensure_users(
    store: Store, agent_ids: Iterable[str], passwords_file: Path
) -> list[tuple[str, str, str]]:
    """On first run (no admin yet) create the default users with random passwords.

    Returns (user name, role, password) of the users created; users that already exist keep
    their passwords. The list is also written to ``passwords_file`` (0600).
    """
    users = await store.users()
    if any(u.role == "admin" for u in users):
        return []
    taken = {u.username for u in users}
    wanted: list[tuple[str, str, str | None]] = [
        ("admin", "admin", None),
        ("supervisor", "supervisor", None),
    ]
    wanted += [(aid, "agent", aid) for aid in agent_ids]
    created = [
        (name, role, agent, secrets.token_urlsafe(12))
        for name, role, agent in wanted
        if name not in taken
    ]
    # hashing is slow on purpose (scrypt, in worker threads): do it in parallel
    await asyncio.gather(
        *(store.set_user(name, pw, role, agent) for name, role, agent, pw in created)  # type: ignore[arg-type]
    )
    lines = [f"{name}\t{role}\t{pw}" for name, role, _, pw in created]
    _write_private(
        passwords_file,
        (
            "# user\trole\tpassword (created on first run; change them)\n" + "\n".join(lines) + "\n"
        ).encode(),
    )
    return [(name, role, pw) for name, role, _, pw in created]


Lock = EngineLock | ServerLock


async def _take_over(
    db: Path | str,
    ports: Sequence[Port],
    stop: asyncio.Event,
    on_lost: Callable[[str], None],
    site: str = "",
    settle: float = 10.0,
) -> Lock | None:
    """The database's lock once the serving engine has ended, with its ports free (given
    ``settle`` seconds to close after the lock: a process's files close one by one as it
    ends); None when ``stop`` comes first. ``CannotServe`` if a port stays taken."""
    lock: Lock | None
    if isinstance(db, str):
        lock = await ServerLock.wait(db, stop, on_lost, site=site)
    else:
        lock = await EngineLock.wait(db, stop)
    if lock is None:
        return None
    deadline = time.monotonic() + settle
    while problems := [p for p in map(port_problem, ports) if p is not None]:
        if stop.is_set() or time.monotonic() > deadline:
            lock.release()
            if stop.is_set():
                return None
            raise CannotServe("; ".join(problems))
        await asyncio.sleep(0.05)
    return lock


@dataclass(frozen=True, slots=True)
class EdgePlan:
    """An edge to build for the site (e.g. the voice edge), the ports it will bind (checked
    before anything is written) and a line about it for the banner."""

    make: Callable[[Site], Edge]
    ports: Sequence[Port] = ()
    summary: str | None = None


async def serve(
    center: Center,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    db_path: Path | str = DEFAULT_DB,  # a SQLite file, or a postgresql:// URL
    data_keys: Path | None = None,  # what seals customers' data; None: in the state directory
    state_dir: Path | None = None,  # the engine's own files; None: the SQLite file's directory
    site: str | None = None,  # this site's, of the sites sharing a PostgreSQL database
    demo: bool = False,
    say: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    edges: Sequence[EdgePlan] = (),
    runtime: RuntimeSettings | None = None,
    heap: HeapSettings | None = None,
    chat_identity_keys: Path | None = None,
    settings: Settings | None = None,
    standby: bool = False,
) -> int:
    """Serve ``center`` until ``stop`` is set (or SIGINT/SIGTERM); ``edges`` are built for the
    site and run with it; ``heap`` runs a ``HeapKeeper`` for the process (None: the ordinary
    garbage collector); ``chat_identity_keys``: the keys file (None: beside the database).
    ``standby``: wait while another engine serves ``db_path`` (see the module docstring).
    ``state_dir``: where the engine's own files are (passwords of the first run, the chat
    secret, the keys files): beside a SQLite database, ``var/`` for a PostgreSQL one.
    ``site``: the PostgreSQL database is shared by sites and this engine serves this one
    (its own records in a schema of its own, the CRM and cases shared; one engine per site).
    Raises ``CannotServe`` when it cannot start, having written nothing."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    http_port = Port("HTTP port", host, port)
    ports = [http_port, *(p for e in edges for p in e.ports)]
    url = db_path if isinstance(db_path, str) else None
    state = state_dir or (DEFAULT_DB.parent if url is not None else Path(db_path).parent)
    shown_db = said_database(db_path)

    def lost(why: str) -> None:
        say(f"Stopping: {why}.")
        stop.set()

    if site is not None:
        try:
            site_schema(site)
        except ValueError as e:
            raise CannotServe(str(e)) from e
        if url is None:
            raise CannotServe("--site names a site of a shared PostgreSQL database (--db URL)")
    if url is not None:
        held = await _server_problem(url, site or "")
        waits = standby and held is not None
        check([] if waits else ports, None)
        data_keys = data_keys or state / DATA_KEYS_FILE
    else:
        path = Path(db_path)
        held = lock_problem(path)
        waits = standby and held is not None
        check([] if waits else ports, path)  # (a standby's ports are the serving engine's)
        if (no_keys := sealed_data_problem(path, data_keys)) is not None:
            raise CannotServe(no_keys)
    if held is not None and not standby:
        raise CannotServe(held)
    keys_path = chat_identity_keys or state / KEYS_FILE
    try:
        keys = read_keys(keys_path, directory_made=chat_identity_keys is None)
    except KeysFileError as e:
        raise CannotServe(str(e)) from e
    lock: Lock | None = None
    if not waits:
        try:
            state.mkdir(mode=0o700, parents=True, exist_ok=True)
            if url is not None:
                lock = await ServerLock.take(url, lost, site=site or "")
            else:
                lock = EngineLock.take(Path(db_path))
        except BlockingIOError as e:  # another engine took it since the check
            if not standby:
                raise CannotServe(str(e)) from e
            held = str(e)
        except UNREACHABLE_ERRORS as e:  # the disk refuses, or the server is gone
            raise CannotServe(str(e)) from e
    if lock is None:
        say(f"Standby: {held}; this engine takes over when that one ends.")
        lock = await _take_over(db_path, ports, stop, lost, site or "")
        if lock is None:
            say("Stopping…")
            return 0
        say(f"Taking over {shown_db}: the engine that served it has ended.")
    try:
        store = await Store.open(db_path, data_keys=data_keys, site=site)
    except StoreError as e:  # e.g. written by a newer version
        lock.release()
        raise CannotServe(str(e)) from e
    except UNREACHABLE_ERRORS as e:
        lock.release()
        raise CannotServe(f"cannot reach the database {shown_db}: {e}") from e
    runner: web.AppRunner | None = None
    demo_task: asyncio.Task[None] | None = None
    keeper: HeapKeeper | None = None
    try:
        await store.seed_customers(center.customers.values(), center.dedicated_agent)
        passwords_file = state / PASSWORDS_FILE
        created = await ensure_users(store, center.agents, passwords_file)
        if created:
            say(f"First run: created {len(created)} users; their passwords are in "
                f"{passwords_file} (mode 0600): log in, then change them.")  # fmt: skip
        if keys is None:
            keys = new_keys()
            _write_private(keys_path, format_keys(keys).encode())
            say(f"First run: created the chat identity keys in {keys_path} (mode 0600): give "
                "the secret only to your site's backend (README: chat identity).")  # fmt: skip
        metrics = Metrics(center)
        secret = chat_secret(state)
        live = Site(center, store, metrics=metrics, settings=runtime,
                    cases=settings.cases if settings is not None else None,
                    contact_token=partial(chat_token, secret))  # fmt: skip
        for edge in edges:
            live.add_edge(edge.make(live))
        identity = ChatIdentity(center.settings.chat_identity, Keyring(keys, keys_path))
        app = build_app(
            live, store, metrics, chat_secret=secret, chat_identity=identity,
            settings=settings,
        )  # fmt: skip
        try:
            runner = await listen(app, host, port)  # with the connection caps and timeouts
        except OSError as e:  # taken since the check: said as the check says it
            raise CannotServe(port_problem(http_port) or str(e)) from e
        bound = [a for a in runner.addresses if isinstance(a, tuple)]
        real_port = bound[0][1] if bound else port
        if heap is not None:
            keeper = HeapKeeper(heap, observe_pause=metrics.gc_paused)
            await keeper.start()
        shown = f"[{host}]" if ":" in host else host
        base = f"http://{shown}:{real_port}"
        if demo:
            sim = LiveDemo(live, identity=identity)
            demo_task = asyncio.create_task(sim.run(), name="demo")
            say(f"Demo: simulated customers; simulated agents {', '.join(sim.agents)}.")
        say(f"{center.settings.name}: serving on {base}  (database {shown_db})")
        say(f"  customer chat   {base}/chat   (identity {identity.settings.policy}, keys "
            f"{keys_path})")  # fmt: skip
        say(f"  agent desktop   {base}/desktop")
        say(f"  wallboard       {base}/wallboard")
        say(f"  API             {base}/openapi.json   metrics {base}/metrics")
        for edge in edges:
            if edge.summary is not None:
                say(edge.summary)
        say("Press Ctrl+C to stop.")
        await stop.wait()
        say("Stopping…")
        return 0
    finally:
        if demo_task is not None:
            demo_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await demo_task
        if runner is not None:
            await runner.cleanup()
        if keeper is not None:
            await keeper.stop()
        await store.close()
        lock.release()

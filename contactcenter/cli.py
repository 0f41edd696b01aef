"""The ``contactcenter`` command: validate a center's config, watch the routing core work, run
the live engine with its web API and pages (``serve``), and manage logins (``user set``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from contactcenter.answers import load_answers
from contactcenter.arguments import at_least_one
from contactcenter.cases import load_cases
from contactcenter.config import Center, ConfigError, ConfigIssue, load_center
from contactcenter.demo import run_demo
from contactcenter.ivr import load_flows
from contactcenter.logs import FORMATS, LEVELS
from contactcenter.logs import configure as configure_logging

if TYPE_CHECKING:
    from contactcenter.api.serve import EdgePlan
    from contactcenter.runtime import Site
    from contactcenter.runtime.ports import Edge


def _check_config(args: argparse.Namespace) -> int:
    issues: list[ConfigIssue] = []
    center = None
    try:
        center = load_center(args.config_dir)
    except ConfigError as err:
        issues += err.issues
    flows = None
    if Path(args.config_dir).is_dir():  # else load_center has said so
        try:  # without a center, the IVR is still checked apart from queues and tiers
            flows = load_flows(args.config_dir, center)
        except ConfigError as err:
            issues += err.issues
        from contactcenter.bus import load_bus_settings

        try:
            load_bus_settings(args.config_dir)
        except ConfigError as err:
            issues += err.issues
        if center is not None:  # answers name queues, and so do mailboxes
            try:
                load_answers(args.config_dir, center)
            except ConfigError as err:
                issues += err.issues
            from contactcenter.mail.settings import load_mail_settings

            try:
                load_mail_settings(args.config_dir, center)
            except ConfigError as err:
                issues += err.issues
        try:
            load_cases(args.config_dir, _channels(center))
        except ConfigError as err:
            issues += err.issues
    if issues or center is None or flows is None:
        print(f"{args.config_dir}: {len(issues)} problem(s)", file=sys.stderr)
        for issue in issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    channels = sorted({q.channel for q in center.queues.values()})
    entries = len(flows.entries.voice) + len(flows.entries.chat)
    ivr = f"; IVR: {len(flows.flows)} flows, {entries} entry points" if flows.flows else ""
    print(
        f"{args.config_dir}: OK - {center.settings.name}: {len(center.queues)} queues "
        f"({', '.join(channels)}), {len(center.agents)} agents, "
        f"{len(center.settings.skills)} skills, {len(center.settings.tiers)} tiers{ivr}"
    )
    return 0


def _channels(center: Center | None) -> dict[str, str] | None:
    """Queue id -> channel (what ``cases.yaml`` names a queue against)."""
    return None if center is None else {q.id: q.channel for q in center.queues.values()}


def _demo(args: argparse.Namespace) -> int:
    try:
        center = load_center(args.config_dir)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    for line in run_demo(center, contacts=args.contacts, seed=args.seed):
        print(line)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from contactcenter.api.preflight import CannotServe
    from contactcenter.api.serve import serve

    configure_logging(args.log_level, args.log_format)
    try:
        center = load_center(args.config)
        center, edges = _with_voice(center, args.config)
        center = _with_chat_menu(center, args.config)
        answers = load_answers(args.config, center)
        cases = load_cases(args.config, _channels(center))
        edges += _with_bus(args.config)
        edges += _with_mail(args.config, center)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    from contactcenter.api.context import Settings
    from contactcenter.api.proxies import networks
    from contactcenter.api.ratelimit import Limits
    from contactcenter.runtime.heap import HeapSettings
    from contactcenter.runtime.site import RuntimeSettings

    try:
        networks(args.trusted_proxy)
    except ValueError as err:
        print(f"contactcenter serve: --trusted-proxy: {err}", file=sys.stderr)
        return 1
    limits = Limits(
        trusted_proxies=tuple(args.trusted_proxy),
        connections=args.max_connections,
        address_connections=args.max_connections_per_address,
    )
    runtime = RuntimeSettings(
        agent_grace_seconds=args.agent_grace, restart_grace_seconds=args.restart_grace
    )
    heap = None
    if args.heap_sweep > 0:
        heap = HeapSettings(
            freeze_every_seconds=min(HeapSettings.freeze_every_seconds, args.heap_sweep),
            sweep_every_seconds=args.heap_sweep,
        )
    try:
        return asyncio.run(
            serve(
                center, host=args.host, port=args.port, db_path=args.db, demo=args.demo,
                state_dir=args.state_dir, site=args.site,
                data_keys=args.data_keys, edges=edges, runtime=runtime, heap=heap,
                chat_identity_keys=args.chat_identity_keys,
                settings=Settings(limits=limits, answers=answers, cases=cases),
                standby=args.standby,
            )
        )  # fmt: skip
    except CannotServe as err:
        print(f"contactcenter serve: cannot start: {err}", file=sys.stderr)
        return 1


def _with_chat_menu(center: Center, config_dir: Path) -> Center:
    """The center with the web chat's menu (the flows of ``entries.yaml``'s chat entries run
    for every new chat, ``runtime/chat_front_door.py``). Without the voice edge only those
    flows: the phone line's take no calls, so its queues have no opening hours."""
    from contactcenter.ivr import flows_of, with_flows
    from contactcenter.ivr.flow import Entries

    if flows_of(center) is not None:  # the voice edge loaded them all
        return center
    flows = load_flows(config_dir, center)
    chat = flows.entries.chat
    only_chat = replace(
        flows,
        flows={fid: f for fid, f in flows.flows.items() if fid in chat.values()},
        entries=Entries(chat=dict(chat)),
    )
    return with_flows(center, only_chat)


def _with_voice(center: Center, config_dir: Path) -> tuple[Center, list[EdgePlan]]:
    """When ``<config>/voice.yaml`` enables it, the site runs the voice edge (SIP/RTP): the
    center with its IVR flows, and the edge to build for the site."""
    from contactcenter.api.preflight import Port
    from contactcenter.api.serve import EdgePlan
    from contactcenter.voice import VoiceConfigError, load_voice_settings

    try:
        settings = load_voice_settings(config_dir)
    except VoiceConfigError as err:
        raise ConfigError([ConfigIssue(str(config_dir / "voice.yaml"), "", str(err))]) from err
    if not settings.enabled:
        return center, []
    from contactcenter.ivr import flows_of, with_flows
    from contactcenter.voice.edge import VoiceEdge

    if flows_of(center) is None:
        center = with_flows(center, load_flows(config_dir, center))

    def voice_edge(site: Site) -> Edge:
        from contactcenter.metrics import Metrics
        from contactcenter.voice.metrics import VoiceCollector

        edge = VoiceEdge(site.voice, settings, config_dir=config_dir)
        if isinstance(site.engine.metrics, Metrics):  # the voice edge in /metrics
            site.engine.metrics.registry.register(VoiceCollector(edge))
        return edge

    s = settings
    summary = (
        f"Voice: extension {s.registration.extension} at SIP server {s.server.host}:"
        f"{s.server.port}, SIP {s.local.ip}:{s.local.sip_port}, "
        f"RTP {s.local.rtp_port_low}-{s.local.rtp_port_high}"
    )
    sip = Port("voice SIP port", s.local.ip, s.local.sip_port, udp=True)
    return center, [EdgePlan(voice_edge, ports=[sip], summary=summary)]


def _with_bus(config_dir: Path) -> list[EdgePlan]:
    """When ``<config>/bus.yaml`` enables it, the site publishes its state and events on an
    MQTT broker (and ``/metrics`` says whether it is connected)."""
    from contactcenter.api.serve import EdgePlan
    from contactcenter.bus import load_bus_settings

    settings = load_bus_settings(config_dir)
    if not settings.enabled:
        return []

    def bus_edge(site: Site) -> Edge:
        from contactcenter.bus import BusCollector, BusEdge
        from contactcenter.metrics import Metrics

        edge = BusEdge(site, settings)
        if isinstance(site.engine.metrics, Metrics):
            site.engine.metrics.registry.register(BusCollector(edge))
        return edge

    tls = " (TLS)" if settings.tls is not None else ""
    summary = (
        f"MQTT bus: broker {settings.host}:{settings.port}{tls} as {settings.identifier}, "
        f"topics cc/v1/{settings.site}/..."
    )
    return [EdgePlan(bus_edge, summary=summary)]


def _with_mail(config_dir: Path, center: Center) -> list[EdgePlan]:
    """When ``<config>/mail.yaml`` enables it, the site reads its mailboxes (IMAP) and sends
    answers (SMTP): the e-mail channel."""
    from contactcenter.api.serve import EdgePlan
    from contactcenter.mail.settings import load_mail_settings

    settings = load_mail_settings(config_dir, center)
    if not settings.enabled:
        return []

    def mail_edge(site: Site) -> Edge:
        from contactcenter.mail.edge import MailEdge
        from contactcenter.mail.metrics import MailCollector
        from contactcenter.metrics import Metrics

        edge = MailEdge(site.serve_mail(settings), settings)
        if isinstance(site.engine.metrics, Metrics):
            site.engine.metrics.registry.register(MailCollector(edge))
        return edge

    boxes = ", ".join(f"{m.address} -> {m.queue}" for m in settings.mailboxes)
    smtp = settings.smtp
    assert smtp is not None  # (an enabled mail edge has one)
    summary = f"e-mail: {boxes}; answers via {smtp.host}:{smtp.port}"
    return [EdgePlan(mail_edge, summary=summary)]


def _user_set(args: argparse.Namespace) -> int:
    from contactcenter.keys_cli import open_store
    from contactcenter.personal_data import log_user_set
    from contactcenter.store import StoreError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
    if len(password) < 8:
        print("the password needs at least 8 characters", file=sys.stderr)
        return 1
    agent = args.agent
    if args.role == "agent" and agent is None:
        agent = args.username
    if args.config is not None:
        try:
            center = load_center(args.config)
        except ConfigError as err:
            print(str(err), file=sys.stderr)
            return 1
        if agent is not None and agent not in center.agents:
            print(f"unknown agent {agent!r} in {args.config}", file=sys.stderr)
            return 1

    async def run() -> None:
        async with await open_store(args.db, args.data_keys, site=args.site) as store:
            await store.set_user(args.username, password, args.role, agent)
            await log_user_set(store, args.username, args.role, agent)

    try:
        asyncio.run(run())
    except StoreError as err:  # e.g. the keys file sealing its customers' data is missing
        print(f"contactcenter user set: {err}", file=sys.stderr)
        return 1
    print(f"user {args.username} set: role {args.role}" + (f", agent {agent}" if agent else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contactcenter", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a center's config directory")
    check.add_argument("config_dir", type=Path)
    check.set_defaults(func=_check_config)
    demo = sub.add_parser("demo", help="run a short simulated shift through the routing core")
    demo.add_argument("config_dir", type=Path)
    demo.add_argument("--contacts", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=_demo)
    from contactcenter.api.chat_identity import add_commands as add_chat_identity_commands
    from contactcenter.api.ratelimit import Limits
    from contactcenter.api.serve import DEFAULT_DB

    limits = Limits()
    from contactcenter.keys_cli import add_commands as add_keys_commands
    from contactcenter.keys_cli import add_data_keys_argument, add_database_argument
    from contactcenter.personal_data import add_commands as add_personal_data_commands
    from contactcenter.store.connection import database_argument

    serve = sub.add_parser("serve", help="run the live engine: HTTP API, chat, desktop, wallboard")
    serve.add_argument("--config", type=Path, required=True, help="the center's config directory")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--db",
        type=database_argument,
        default=DEFAULT_DB,
        help=f"a SQLite file (default {DEFAULT_DB}) or a PostgreSQL URL "
        "(postgresql://user[:password]@host[:port]/database; or libpq's PG* variables)",
    )
    serve.add_argument(
        "--site",
        help="with several sites on one PostgreSQL database: the one this engine serves (its "
        "contacts, users and reports its own; the CRM and cases shared)",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="the engine's own files (first-run passwords, chat secret, keys); default the "
        f"SQLite file's directory, {DEFAULT_DB.parent} with PostgreSQL",
    )
    add_data_keys_argument(serve)
    serve.add_argument(
        "--demo", action="store_true", help="add simulated customers and agents to watch"
    )
    serve.add_argument(
        "--standby",
        action="store_true",
        help="while another engine serves --db (on this machine; with PostgreSQL, on any), "
        "wait, and take over when it ends (a crash included)",
    )
    serve.add_argument(
        "--agent-grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="set an agent whose desktop is gone this long away (disconnected); default 30",
    )
    serve.add_argument(
        "--restart-grace",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="after a restart, agents have this long to come back as they were; default 120",
    )
    serve.add_argument(
        "--heap-sweep",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="freeze long-lived objects out of the garbage collector's way and sweep them this "
        "often (one full pause); 0: the ordinary collector; default 3600",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy in front of the engine (address or network; repeatable): limits "
        "then count the client it names in X-Forwarded-For, and requests must come through it "
        "(except /healthz and /metrics)",
    )
    serve.add_argument(
        "--max-connections",
        type=at_least_one,
        default=limits.connections,
        metavar="N",
        help=f"open connections in all; default {limits.connections}",
    )
    serve.add_argument(
        "--max-connections-per-address",
        type=at_least_one,
        default=limits.address_connections,
        metavar="N",
        help="open connections per client address (a proxy is not capped by it); default "
        f"{limits.address_connections}",
    )
    serve.add_argument(
        "--log-level", choices=LEVELS, default="info", help="least severe log line shown"
    )
    serve.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="log lines on stderr: text, or json (one object per line, ISO 8601 timestamp)",
    )
    serve.add_argument(
        "--chat-identity-keys",
        type=Path,
        metavar="FILE",
        help="the keys chat identities are signed with (made on first run); default beside --db",
    )
    serve.set_defaults(func=_serve)
    user = sub.add_parser("user", help="manage logins of the web API")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_set = user_sub.add_parser("set", help="create a login or change its password and role")
    user_set.add_argument("username")
    user_set.add_argument("--role", choices=("agent", "supervisor", "admin"), required=True)
    user_set.add_argument("--agent", help="the agent id of an agent's login (default: username)")
    user_set.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    add_database_argument(user_set, DEFAULT_DB)
    add_data_keys_argument(user_set)
    user_set.add_argument("--config", type=Path, help="check --agent against this config")
    user_set.set_defaults(func=_user_set)
    add_personal_data_commands(sub, DEFAULT_DB)
    add_chat_identity_commands(sub)
    add_keys_commands(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())

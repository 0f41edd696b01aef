"""Loading the IVR section of a center: ``config/ivr/`` and ``config/prompts/``.

Layout::

    config/ivr/entries.yaml      entry points: dialled number / chat entry -> flow id
    config/ivr/hours.yaml        named schedules (weekly hours, holidays); the center's zone
    config/ivr/<flow id>.yaml    one flow each: name, start, nodes
    config/prompts/prompts.yaml  prompt id -> text (and espeak-ng voice), for chat and
                                 scripts/make-prompts
    config/prompts/<id>.wav      the recordings

Like ``load_center``, ``load_flows`` collects every problem before failing and names file,
key path and reason for each. Checked across files: nodes named exist, every node is reached
from the start, nothing loops without waiting for the caller, queues exist and fit the
entry's channel (voice flows queue voice contacts, chat flows chat contacts), tiers and
schedules exist, every prompt a voice flow plays has a playable recording and every prompt a
chat flow shows has a text, every entry names a flow and every flow has an entry, and the
post-call survey is offered only to callers of a center that surveys calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from contactcenter.config import Center, ConfigError, ConfigIssue
from contactcenter.config.loader import read_yaml, validate_one
from contactcenter.ivr.flow import (
    IDENTIFIER,
    NODE_TYPES,
    BranchNode,
    CallbackNode,
    Condition,
    EnqueueNode,
    Entries,
    Flow,
    HoursFile,
    LookupNode,
    Node,
    PromptCatalog,
    SurveyNode,
    TransferNode,
    conditions,
    node_prompts,
    successors,
)
from contactcenter.ivr.hours import BusinessHours
from contactcenter.ivr.interpreter import Session
from contactcenter.ivr.prompts import PromptFormatError, PromptLibrary, wav_info

IVR_DIR = "ivr"
PROMPTS_DIR = "prompts"
ENTRIES_FILE = f"{IVR_DIR}/entries.yaml"
HOURS_FILE = f"{IVR_DIR}/hours.yaml"
CATALOG_FILE = f"{PROMPTS_DIR}/prompts.yaml"
EXTRA_KEY = "ivr"
"""The key of the loaded ``Flows`` in ``Center.extra``."""

_NOT_FLOWS = {"entries.yaml", "hours.yaml"}


@dataclass(frozen=True)
class Flows:
    """A center's IVR, validated: flows by id, entry points, schedules, prompts."""

    flows: Mapping[str, Flow] = field(default_factory=dict)
    entries: Entries = field(default_factory=Entries)
    hours: BusinessHours = field(default_factory=lambda: BusinessHours(ZoneInfo("UTC")))
    catalog: PromptCatalog = field(default_factory=PromptCatalog)
    prompt_dir: Path = Path(PROMPTS_DIR)

    def for_dialled(self, number: str) -> Flow | None:
        """The flow of a dialled number (voice entry point)."""
        flow_id = self.entries.voice.get(number)
        return None if flow_id is None else self.flows[flow_id]

    def for_chat(self, entry: str) -> Flow | None:
        """The flow of a chat entry point."""
        flow_id = self.entries.chat.get(entry)
        return None if flow_id is None else self.flows[flow_id]

    def session(self, flow: str | Flow, variables: Mapping[str, str] | None = None) -> Session:
        """A new session in ``flow`` (an id or a flow), with this center's business hours."""
        chosen = self.flows[flow] if isinstance(flow, str) else flow
        return Session(chosen, variables, hours=self.hours)

    @property
    def texts(self) -> dict[str, str]:
        """Prompt id -> text, for text channels."""
        return {pid: p.text for pid, p in self.catalog.prompts.items()}

    def library(self) -> PromptLibrary:
        """The recordings, for the voice edge."""
        return PromptLibrary(self.prompt_dir)


def with_flows(center: Center, flows: Flows) -> Center:
    """``center`` carrying ``flows`` in ``extra`` (the config package does not know the IVR)."""
    return replace(center, extra={**center.extra, EXTRA_KEY: flows})


def flows_of(center: Center) -> Flows | None:
    found = center.extra.get(EXTRA_KEY)
    return found if isinstance(found, Flows) else None


def load_flows(directory: str | Path, center: Center | None) -> Flows:
    """Load and validate the IVR of the center in ``directory``.

    ``center`` is the center loaded from the same directory; None (when it did not load)
    skips the checks against queues, tiers and the time zone. A directory without ``ivr/``
    has no IVR: the result is empty. Raises ConfigError with every problem found.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError([ConfigIssue(str(root), "", "not a directory")])
    issues: list[ConfigIssue] = []
    prompt_dir = root / PROMPTS_DIR
    if not (root / IVR_DIR).is_dir():
        return Flows(prompt_dir=prompt_dir)

    catalog = _load_one(PromptCatalog, root, CATALOG_FILE, issues, required=False)
    hours_file = _load_one(HoursFile, root, HOURS_FILE, issues, required=False)
    entries_doc = _read(root, ENTRIES_FILE, issues, required=False)
    entries = validate_one(Entries, entries_doc, ENTRIES_FILE, issues)

    # the center's zone is checked when center.yaml is loaded
    timezone = ZoneInfo(center.settings.timezone if center is not None else "UTC")
    hours = BusinessHours(timezone, dict(hours_file.schedules) if hours_file else {})

    flow_files = sorted(
        p for p in (root / IVR_DIR).glob("*.yaml") if p.is_file() and p.name not in _NOT_FLOWS
    )
    if flow_files and entries_doc is None:
        if not (root / ENTRIES_FILE).exists():
            issues.append(ConfigIssue(ENTRIES_FILE, "", "file is missing (flows need entries)"))
        elif not any(i.file == ENTRIES_FILE for i in issues):
            issues.append(ConfigIssue(ENTRIES_FILE, "", "file is empty (flows need entries)"))
    flow_ids = {p.stem for p in flow_files}
    channels = _entry_channels(entries_doc, flow_ids, issues)

    checker = _Checker(
        root=root,
        center=center,
        catalog=catalog,
        schedules=None if hours_file is None and (root / HOURS_FILE).exists() else hours,
        issues=issues,
    )
    flows: dict[str, Flow] = {}
    for path in flow_files:
        file = f"{IVR_DIR}/{path.name}"
        if channels is not None and path.stem not in channels:
            issues.append(
                ConfigIssue(file, "", f"flow {path.stem!r} is not used by any entry point")
            )
        # A flow without (readable) entry points has no channel: channel checks are skipped.
        flow = checker.flow(path, file, (channels or {}).get(path.stem, set()))
        if flow is not None:
            flows[flow.id] = flow
    checker.check_recordings()
    if issues:
        raise ConfigError(issues)
    return Flows(
        flows=flows,
        entries=entries or Entries(),
        hours=hours,
        catalog=catalog or PromptCatalog(),
        prompt_dir=prompt_dir,
    )


M = TypeVar("M", bound=BaseModel)


def _read(root: Path, file: str, issues: list[ConfigIssue], *, required: bool) -> Any:
    found: list[ConfigIssue] = []
    doc = read_yaml(root / file, found, required=required)
    issues.extend(replace(i, file=file) for i in found)
    return doc


def _load_one(
    model: type[M], root: Path, file: str, issues: list[ConfigIssue], *, required: bool
) -> M | None:
    return validate_one(model, _read(root, file, issues, required=required), file, issues)


def _entry_channels(
    doc: Any, flow_ids: set[str], issues: list[ConfigIssue]
) -> dict[str, set[str]] | None:
    """Flow id -> the channels it is entered by, read from the entries file even when it has
    problems of its own (None: not readable at all); unknown flows named are issues."""
    if not isinstance(doc, dict):
        return None
    out: dict[str, set[str]] = {}
    for channel in ("voice", "chat"):
        table = doc.get(channel)
        if not isinstance(table, dict):
            continue
        for entry, flow_id in table.items():
            if not isinstance(flow_id, str):
                continue  # the model's validation reports it
            if flow_id not in flow_ids:
                issues.append(
                    ConfigIssue(ENTRIES_FILE, f"{channel}.{entry}", f"unknown flow {flow_id!r}")
                )
            else:
                out.setdefault(flow_id, set()).add(channel)
    return out


_WAITS = (BranchNode, LookupNode, CallbackNode)
"""Node types that may pass control on without waiting for anyone."""


@dataclass
class _Checker:
    root: Path
    center: Center | None
    catalog: PromptCatalog | None
    schedules: BusinessHours | None
    """None when ``hours.yaml`` exists but is invalid (schedule names are then unchecked)."""
    issues: list[ConfigIssue]
    recordings: dict[str, None] = field(default_factory=dict)

    def add(self, file: str, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(file, path, message))

    def flow(self, path: Path, file: str, channels: set[str]) -> Flow | None:
        """Validate one flow file; None if it has problems (they are in ``issues``)."""
        before = len(self.issues)
        found: list[ConfigIssue] = []
        doc = read_yaml(path, found)
        self.issues.extend(replace(i, file=file) for i in found)
        if doc is None:
            return None
        if not re.match(IDENTIFIER, path.stem):
            self.add(file, "", "a flow's file name is its id: letters, digits, '_', '.', '-'")
        if not isinstance(doc, dict):
            self.add(file, "", "expected a mapping with 'start' and 'nodes'")
            return None
        for key in sorted(set(doc) - {"name", "start", "nodes"}, key=str):
            reason = "the flow's id is its file name" if key == "id" else "unknown key"
            self.add(file, str(key), reason)
        for key in ("start", "nodes"):
            if key not in doc:
                self.add(file, key, "missing")
        name = doc.get("name", "")
        if not isinstance(name, str):
            self.add(file, "name", "expected a string")
        raw_nodes = doc.get("nodes")
        if raw_nodes is not None and (not isinstance(raw_nodes, dict) or not raw_nodes):
            self.add(file, "nodes", "expected a mapping of node id -> node")
            raw_nodes = None
        nodes = self._nodes(file, raw_nodes or {})
        known = {str(k) for k in (raw_nodes or {})}
        start = doc.get("start")
        bad_start = not isinstance(start, str) or start not in known
        if "start" in doc and raw_nodes is not None and bad_start:
            self.add(file, "start", f"unknown node {start!r}")
        self._check_nodes(file, nodes, known, channels)
        if len(nodes) == len(known) and isinstance(start, str) and start in known:
            self._check_graph(file, start, nodes)
        if len(self.issues) > before:
            return None
        assert isinstance(start, str) and isinstance(name, str)
        return Flow(id=path.stem, name=name, start=start, nodes=nodes)

    def _nodes(self, file: str, raw: Mapping[Any, Any]) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        for node_id, body in raw.items():
            base = f"nodes.{node_id}"
            if not isinstance(node_id, str) or not re.match(IDENTIFIER, node_id):
                self.add(file, base, "a node id needs letters, digits, '_', '.', '-'")
                continue
            if not isinstance(body, dict):
                self.add(file, base, "expected a mapping with a 'type'")
                continue
            kind = body.get("type")
            model = NODE_TYPES.get(kind) if isinstance(kind, str) else None
            if model is None:
                reason = "missing" if kind is None else f"unknown node type {kind!r}"
                self.add(file, f"{base}.type", f"{reason} (one of: {', '.join(NODE_TYPES)})")
                continue
            node = validate_one(model, body, file, self.issues, prefix=base)
            if node is not None:
                nodes[node_id] = cast(Node, node)
        return nodes

    def _check_nodes(
        self, file: str, nodes: Mapping[str, Node], known: set[str], channels: set[str]
    ) -> None:
        for node_id, node in nodes.items():
            base = f"nodes.{node_id}"
            for path, target in successors(node):
                if target not in known:
                    self.add(file, f"{base}.{path}", f"unknown node {target!r}")
            for path, prompt in node_prompts(node):
                self._check_prompt(file, f"{base}.{path}", prompt, channels)
            if isinstance(node, EnqueueNode | CallbackNode):
                self._check_queue(file, f"{base}.queue", node, channels)
            if isinstance(node, EnqueueNode) and node.tier is not None:
                self._check_tiers(file, f"{base}.tier", (node.tier,))
            if isinstance(node, TransferNode) and "chat" in channels:
                self.add(file, base, "a chat cannot be transferred to a phone number")
            if isinstance(node, CallbackNode) and "chat" in channels:
                self.add(file, base, "a chat menu cannot book a call back (the widget offers "
                         "one while the customer waits)")  # fmt: skip
            if isinstance(node, SurveyNode) or (isinstance(node, EnqueueNode) and node.survey):
                path = base if isinstance(node, SurveyNode) else f"{base}.survey"
                self._check_survey(file, path, channels)
            if isinstance(node, BranchNode):
                for i, rule in enumerate(node.rules):
                    for path, c in conditions(rule.when, f"{base}.rules[{i}].when"):
                        self._check_condition(file, path, c)

    def _check_survey(self, file: str, path: str, channels: set[str]) -> None:
        """The post-call survey is the phone's: a chat is asked by its widget, and the runtime
        takes a call's score only if the center surveys calls."""
        if "chat" in channels:
            self.add(file, path, "a chat is surveyed by the chat widget when it ends, not by its "
                     "menu")  # fmt: skip
        csat = self.center.settings.csat if self.center is not None else None
        if "voice" in channels and csat is not None and "voice" not in csat.channels:
            self.add(file, path, "the post-call survey needs voice in csat.channels (center.yaml)")

    def _check_condition(self, file: str, path: str, c: Condition) -> None:
        for kind in ("open", "holiday"):
            name = getattr(c, kind)
            if name is None or self.schedules is None:
                continue
            if name not in self.schedules.schedules:
                where = f"{HOURS_FILE}" if self.schedules.schedules else f"{HOURS_FILE} (missing)"
                self.add(file, f"{path}.{kind}", f"unknown schedule {name!r} ({where})")
        if c.queue is not None and self.center is not None and c.queue not in self.center.queues:
            self.add(file, f"{path}.queue", f"unknown queue {c.queue!r}")
        if c.variable == "tier":
            values = (c.equals,) if c.equals is not None else c.one_of or ()
            key = "equals" if c.equals is not None else "one_of"
            self._check_tiers(file, f"{path}.{key}", values)

    def _check_tiers(self, file: str, path: str, tiers: Iterable[str]) -> None:
        if self.center is None:
            return
        for tier in tiers:
            if tier not in self.center.tiers:
                self.add(file, path, f"unknown tier {tier!r}")

    def _check_queue(
        self, file: str, path: str, node: EnqueueNode | CallbackNode, channels: set[str]
    ) -> None:
        if self.center is None:
            return
        queue = self.center.queues.get(node.queue)
        if queue is None:
            self.add(file, path, f"unknown queue {node.queue!r}")
        elif isinstance(node, CallbackNode):
            if queue.channel != "voice":
                self.add(
                    file,
                    path,
                    f"callbacks are calls: queue {node.queue!r} is a {queue.channel} queue",
                )
        else:
            for channel in sorted(channels - {queue.channel}):
                self.add(
                    file,
                    path,
                    f"queue {node.queue!r} is a {queue.channel} queue but this flow is entered "
                    f"by {channel} ({ENTRIES_FILE})",
                )

    def _check_prompt(self, file: str, path: str, prompt: str, channels: set[str]) -> None:
        if "voice" in channels:
            wav = self.root / PROMPTS_DIR / f"{prompt}.wav"
            if wav.is_file():
                self.recordings.setdefault(prompt)
            else:
                self.add(
                    file,
                    path,
                    f"prompt {prompt!r} has no recording {PROMPTS_DIR}/{prompt}.wav "
                    "(scripts/make-prompts makes it from prompts/prompts.yaml)",
                )
        if "chat" in channels and (self.catalog is None or prompt not in self.catalog.prompts):
            self.add(file, path, f"prompt {prompt!r} has no text in {CATALOG_FILE}")

    def check_recordings(self) -> None:
        """Every recording a voice flow plays must be a WAV file the prompt loader reads."""
        for prompt in self.recordings:
            try:
                wav_info(self.root / PROMPTS_DIR / f"{prompt}.wav")
            except (PromptFormatError, OSError) as err:
                self.add(f"{PROMPTS_DIR}/{prompt}.wav", "", f"cannot be played: {err}")

    def _check_graph(self, file: str, start: str, nodes: Mapping[str, Node]) -> None:
        reached = {start}
        todo = [start]
        while todo:
            for _, target in successors(nodes[todo.pop()]):
                if target in nodes and target not in reached:
                    reached.add(target)
                    todo.append(target)
        for node_id in nodes:
            if node_id not in reached:
                self.add(file, f"nodes.{node_id}", f"never reached from the start {start!r}")
        # Nodes that can pass control on at once; any cycle among them never waits.
        edges = {
            n: {t for _, t in successors(node) if isinstance(nodes.get(t), _WAITS)}
            for n, node in nodes.items()
            if isinstance(node, _WAITS)
        }
        reported: set[str] = set()
        for node_id in edges:
            ring = {n for n in _reachable(edges, node_id) if node_id in _reachable(edges, n)}
            if node_id in ring and node_id not in reported:
                reported |= ring
                names = ", ".join(sorted(ring))
                self.add(
                    file,
                    f"nodes.{min(ring)}",
                    f"nodes {names} can loop without waiting for the caller",
                )


def _reachable(edges: Mapping[str, set[str]], start: str) -> set[str]:
    """Nodes reachable from ``start`` in one or more steps."""
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges.get(n, ()))
    return seen

"""Waiting lists: priority-then-FIFO heaps with lazy deletion.

A waiting contact sits in the list of its queue's current escalation step, and, when it has a
dedicated agent, also in that agent's list. Removing is O(1) (bump ``Contact.version``); stale
entries are dropped when they reach the top. Heads are therefore O(log n) amortised, which is
what keeps matching cost flat as the backlog grows.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from contactcenter.routing.contact import Contact, ContactState

_WAITING = ContactState.WAITING
"""(A global: the enum's own attribute lookup costs several times as much.)"""

Entry = tuple[int, float, int, int, Contact]
"""(-priority, arrived_at, seq, version, contact): smaller is served first."""


def entry(contact: Contact) -> Entry:
    return (-contact.priority, contact.arrived_at, contact.seq, contact.version, contact)


def is_live(item: Entry) -> bool:
    c = item[4]
    return c.version == item[3] and c.state is _WAITING


class WaitingList:
    """One heap of waiting contacts."""

    __slots__ = ("heap",)

    def __init__(self) -> None:
        self.heap: list[Entry] = []
        """Outside this class only ``head_entry``'s loop, inlined on the router's hot path,
        touches it: it pops stale entries off the top, nothing else."""

    def push(self, contact: Contact) -> None:
        heapq.heappush(self.heap, entry(contact))

    def head(self) -> Contact | None:
        heap = self.heap
        while heap:
            top = heap[0]
            if top[4].version == top[3] and top[4].state is _WAITING:
                return top[4]
            heapq.heappop(heap)
        return None

    def head_entry(self) -> Entry | None:
        heap = self.heap
        while heap:
            top = heap[0]
            c = top[4]
            if c.version == top[3] and c.state is _WAITING:
                return top
            heapq.heappop(heap)
        return None

    def first(self, accept: Callable[[Contact], bool]) -> Contact | None:
        """The best live contact that ``accept`` admits (heads it rejects are put back)."""
        head = self.head()
        if head is None or accept(head):
            return head
        heap = self.heap
        skipped: list[Entry] = []
        found: Contact | None = None
        while heap:
            top = heapq.heappop(heap)
            if not is_live(top):
                continue
            skipped.append(top)
            if accept(top[4]):
                found = top[4]
                break
        for item in skipped:
            heapq.heappush(heap, item)
        return found

    def live(self) -> list[Contact]:
        """All live contacts in serving order (O(n log n); for explain and rare bulk moves)."""
        return [item[4] for item in sorted(self.heap) if is_live(item)]

    def __len__(self) -> int:
        """Entries including stale ones (an upper bound on live contacts)."""
        return len(self.heap)

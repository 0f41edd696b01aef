"""What sealing customers' data at rest costs the store: its writes and reads of personal data
with sealing (AES-256-GCM per value, HMAC look-up hashes, ``secure_delete``), against the same
calls with sealing taken out (values and look-up keys in clear, no ``secure_delete``: the store
as it was before), measured in the same run, on the same disk, with the same settings
(WAL, ``synchronous=FULL``: every commit fsync'd, as ``serve`` runs).

Each workload runs on a fresh database per variant; the variants alternate round by round and
the median round counts, so a busy neighbour slows both alike. Both the wall time and the
process's CPU time (all its threads: aiosqlite's included) per operation are measured: the
wall time holds the fsync'd commits, and on a busy machine waiting for the disk and the CPU;
the CPU time is what sealing adds to the work. Workloads:

* ``chat_batches``: chat lines written as the runtime batches them (``add_messages``, 20 lines
  of ~80 characters a commit);
* ``single_lines``: one ``add_message`` (one commit) each;
* ``customers``: ``upsert_customer`` (name, phone, e-mail, account number);
* ``callbacks``: ``add_callback`` (the call back and its contact, one commit);
* ``transcripts``: ``transcript`` of a 50-line chat;
* ``screen_pops``: ``customer`` with 5 notes;
* ``look_ups``: ``find_customer`` by phone among 2,000 customers.

Also the crypto alone: microseconds to seal and to open one chat line.

Prints human-readable lines, then, last, one line of ``key=value`` pairs (``ratio_<workload>``:
sealed wall time over clear wall time, ``cpu_ratio_<workload>`` the same of CPU time;
``clear_in_sealed``/``clear_in_baseline``: how many of the written values a byte search finds
in each variant's files, 0 and all of them).

Usage: ``python bench/sealing.py [--quick] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

try:
    import contactcenter  # noqa: F401
except ModuleNotFoundError:  # run from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contactcenter.store import CustomerRecord, Store
from contactcenter.store.data_keys import DataKeys
from contactcenter.store.sealing import Keyring, LookupKind, normalise

LINE = "Hello, my order 4711 arrived broken; can you send a new one to the same address? "


class ClearKeys(DataKeys):
    """Sealing taken out: values stored as given, look-up keys as their normalised text."""

    def seal(self, table: str, column: str, value: str | None) -> str | None:
        return value

    def open(self, table: str, column: str, value: str | None) -> str | None:
        return value

    def lookup_hash(self, kind: LookupKind, value: str | None) -> bytes | None:
        return None if value is None else normalise(kind, value).encode()

    def lookup_hashes(self, kind: LookupKind, value: str) -> list[bytes]:
        return [normalise(kind, value).encode()]


async def open_store(path: Path, sealed: bool) -> Store:
    store = await Store.open(path)
    if not sealed:
        store._keys = ClearKeys(Keyring.new(), None)
        await store._conn().execute("PRAGMA secure_delete = OFF")
    return store


Workload = Callable[[Store, int], Awaitable[None]]
"""Runs ``n`` operations on a store prepared for it."""


async def chat_batches(store: Store, n: int) -> None:
    for b in range(n):
        await store.add_messages(
            [(f"k{b % 50}", "customer", f"{LINE}{b}.{i}", 1.0, None) for i in range(20)]
        )


async def single_lines(store: Store, n: int) -> None:
    for i in range(n):
        await store.add_message(f"k{i % 50}", "customer", f"{LINE}{i}", 1.0)


async def customers(store: Store, n: int) -> None:
    for i in range(n):
        await store.upsert_customer(customer(i))


async def callbacks(store: Store, n: int) -> None:
    for i in range(n):
        await store.add_callback(
            callback_contact_id=f"cb{i}", contact_id=None, queue="support", customer_id=None,
            verified=False, phone=f"+49 30 {i:07d}", name=f"Caller {i}", tier="standard",
            source="api", requested_by=None, arrived_wall=1.0, created_wall=1.0, due_wall=1.0,
        )  # fmt: skip


async def transcripts(store: Store, n: int) -> None:
    for i in range(n):
        await store.transcript(f"k{i % 20}")


async def screen_pops(store: Store, n: int) -> None:
    for i in range(n):
        await store.customer(f"C{i % 200}")


async def look_ups(store: Store, n: int) -> None:
    for i in range(n):
        await store.find_customer(phone=f"+49 30 {(i * 7919) % 2000:07d}")


def customer(i: int) -> CustomerRecord:
    return CustomerRecord(
        f"C{i}", f"Customer Name {i}", phone=f"+49 30 {i:07d}", email=f"c{i}@example.org",
        account_number=f"AC-{i:08d}",
    )  # fmt: skip


async def prepare_reads(store: Store) -> None:
    """What the read workloads read: 20 chats of 50 lines, 2,000 customers (200 with notes)."""
    for c in range(20):
        await store.add_messages(
            [(f"k{c}", "customer", f"{LINE}{c}.{i}", 1.0, None) for i in range(50)]
        )
    async with store._write() as db:  # one commit: setup, not measured
        for i in range(2000):
            await db.execute(
                "INSERT INTO customers (id, name, tier, dedicated_agent, phone, email,"
                " account_number, phone_hash, email_hash, account_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                store._customer_row(customer(i), None),
            )
    for i in range(200):
        for j in range(5):
            await store.add_customer_note(f"C{i}", f"note {j}: {LINE}", 1.0)


WRITES: dict[str, tuple[Workload, int]] = {
    "chat_batches": (chat_batches, 100),
    "single_lines": (single_lines, 200),
    "customers": (customers, 200),
    "callbacks": (callbacks, 200),
}
READS: dict[str, tuple[Workload, int]] = {
    "transcripts": (transcripts, 400),
    "screen_pops": (screen_pops, 1000),
    "look_ups": (look_ups, 1000),
}


Cost = tuple[float, float]
"""Seconds per operation: (wall, CPU)."""


async def timed(work: Workload, store: Store, n: int) -> Cost:
    wall, cpu = time.perf_counter(), time.process_time()
    await work(store, n)
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


async def measure(where: Path, rounds: int, scale: float) -> dict[str, dict[bool, list[Cost]]]:
    """Seconds per operation of each workload, per variant (sealed?), one value a round."""
    out: dict[str, dict[bool, list[Cost]]] = {
        name: {True: [], False: []} for name in (*WRITES, *READS)
    }
    for r in range(rounds):
        for sealed in (r % 2 == 0, r % 2 != 0):  # who goes first alternates
            for name, (work, n) in WRITES.items():
                count = max(1, int(n * scale))
                store = await open_store(where / f"w-{name}-{sealed}-{r}.db", sealed)
                try:
                    out[name][sealed].append(await timed(work, store, count))
                finally:
                    await store.close()
            store = await open_store(where / f"r-{sealed}-{r}.db", sealed)
            try:
                await prepare_reads(store)
                for name, (work, n) in READS.items():
                    count = max(1, int(n * scale))
                    out[name][sealed].append(await timed(work, store, count))
            finally:
                await store.close()
    return out


def crypto_alone(n: int) -> tuple[float, float]:
    """Microseconds to seal, and to open, one chat line."""
    ring = Keyring.new()
    start = time.perf_counter()
    sealed = [ring.seal(LINE, "messages.text") for _ in range(n)]
    mid = time.perf_counter()
    for s in sealed:
        ring.open(s, "messages.text")
    end = time.perf_counter()
    return (mid - start) / n * 1e6, (end - mid) / n * 1e6


async def clear_values_found(where: Path) -> tuple[int, int]:
    """Values written by one small run of each variant that a byte search finds in its files
    (database and -wal, while the store is open)."""
    found = []
    for sealed in (True, False):
        db = where / f"leak-{sealed}.db"
        store = await open_store(db, sealed)
        try:
            await chat_batches(store, 2)
            await customers(store, 3)
            data = b"".join(p.read_bytes() for p in where.glob(f"leak-{sealed}.db*"))
        finally:
            await store.close()
        wanted = [f"{LINE}{b}.{i}" for b in range(2) for i in range(20)]
        wanted += [v for i in range(3) for v in (f"Customer Name {i}", f"c{i}@example.org")]
        found.append(sum(1 for v in wanted if v.encode() in data))
    return found[0], found[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument("--rounds", type=int, help="rounds per variant (median taken)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    scale = 0.1 if args.quick else 1.0
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="sealing-bench-") as tmp:
        where = Path(tmp)
        results = asyncio.run(measure(where, rounds, scale))
        leaks = asyncio.run(clear_values_found(where))
    seal_us, open_us = crypto_alone(2000 if args.quick else 20000)
    print(f"sealing bench: {rounds} round(s) per variant, medians; commits fsync'd (in {tmp})")
    pairs: dict[str, str] = {}
    print("  (wall ms per operation, then CPU ms; sealed / clear)")
    for name, by in results.items():
        sealed, clear = (statistics.median(c[0] for c in by[v]) for v in (True, False))
        cpu_sealed, cpu_clear = (statistics.median(c[1] for c in by[v]) for v in (True, False))
        ratio, cpu_ratio = sealed / clear, cpu_sealed / cpu_clear
        kind = "write" if name in WRITES else "read"
        wall = f"{sealed * 1e3:7.3f} / {clear * 1e3:7.3f} = {ratio:5.2f}"
        cpu = f"{cpu_sealed * 1e3:7.3f} / {cpu_clear * 1e3:7.3f} = {cpu_ratio:5.2f}"
        print(f"  {kind:5} {name:13} wall {wall}   cpu {cpu}")
        pairs[f"ratio_{name}"] = f"{ratio:.3f}"
        pairs[f"cpu_ratio_{name}"] = f"{cpu_ratio:.3f}"
        pairs[f"sealed_{name}_ms"] = f"{sealed * 1e3:.4f}"
        pairs[f"clear_{name}_ms"] = f"{clear * 1e3:.4f}"
        pairs[f"cpu_sealed_{name}_ms"] = f"{cpu_sealed * 1e3:.4f}"
        pairs[f"cpu_clear_{name}_ms"] = f"{cpu_clear * 1e3:.4f}"
    print(f"  crypto alone: seal {seal_us:.1f} us, open {open_us:.1f} us per {len(LINE)}-char line")
    print(f"  written values found in the files by a byte search: sealed {leaks[0]}, clear "
          f"{leaks[1]}")  # fmt: skip
    pairs |= {
        "seal_us": f"{seal_us:.2f}",
        "open_us": f"{open_us:.2f}",
        "clear_in_sealed": str(leaks[0]),
        "clear_in_baseline": str(leaks[1]),
        "rounds": str(rounds),
        "quick": "1" if args.quick else "0",
    }
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

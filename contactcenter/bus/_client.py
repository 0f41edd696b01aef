"""The one module that speaks aiomqtt 2.x (the rest of the bus never imports it): a connection
that registers the engine's last will, publishes pipelined at the configured QoS, and tells
when it is lost.

aiomqtt's client is an async context manager that connects on enter; it is not re-entrant
and does not reconnect by itself, so each attempt builds a fresh client (no state carried
over from a dead session). ``publish`` at QoS >= 1 returns when the broker acknowledged; a
publish started while the link is down raises at once, but one in flight when the link dies
would only time out, so the bus races its publishing against ``Connection.lost``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiomqtt

from contactcenter.bus.settings import BusSettings

IN_FLIGHT = 100
"""QoS >= 1 publications on the wire before the first is acknowledged."""


class BrokerUnavailable(Exception):
    """The broker cannot be reached, refused us, or the connection was lost."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool


class Connection:
    def __init__(self, client: aiomqtt.Client, qos: int) -> None:
        self._client = client
        self._qos = qos

    def send(self, message: Message) -> asyncio.Task[None]:
        """Publish ``message``; the task ends when the broker has acknowledged it. Tasks
        created one after the other reach the broker in that order (paho writes each as its
        task first runs, and tasks first run in the order they were created)."""
        return asyncio.create_task(self._publish(message))

    async def publish(self, message: Message) -> None:
        await self.send(message)

    async def _publish(self, m: Message) -> None:
        try:
            await self._client.publish(m.topic, m.payload, qos=self._qos, retain=m.retain)
        except aiomqtt.MqttError as e:
            raise BrokerUnavailable(str(e)) from e

    async def lost(self) -> None:
        """Return when the connection is gone (nothing is subscribed: the message iterator
        only ends, with an error, at a disconnect)."""
        try:
            async for _ in self._client.messages:
                pass
        except aiomqtt.MqttError:
            return


@asynccontextmanager
async def connect(settings: BusSettings, will: Message) -> AsyncIterator[Connection]:
    """One connection, with ``will`` as its last will; leaving the block disconnects cleanly
    (the broker then does not publish the will). ``BrokerUnavailable`` when it fails."""
    try:
        password = settings.password()
        tls = _tls(settings)
    except (OSError, KeyError) as e:  # a file went away, the variable was unset
        raise BrokerUnavailable(f"cannot read the bus's credentials: {e}") from e
    client = aiomqtt.Client(
        settings.host,
        settings.port,
        username=settings.username,
        password=password,
        identifier=settings.identifier,
        will=aiomqtt.Will(will.topic, will.payload, qos=settings.qos, retain=will.retain),
        clean_session=True,
        keepalive=settings.keepalive_seconds,
        timeout=10,
        max_inflight_messages=IN_FLIGHT,
        tls_context=tls,
    )
    client.pending_calls_threshold = 2 * IN_FLIGHT  # (it warns beyond: we pipeline on purpose)
    try:
        async with client:
            yield Connection(client, settings.qos)
    except aiomqtt.MqttError as e:
        raise BrokerUnavailable(str(e)) from e


def _tls(settings: BusSettings) -> ssl.SSLContext | None:
    tls = settings.tls
    if tls is None:
        return None
    context = ssl.create_default_context(
        cafile=str(tls.ca_file) if tls.ca_file is not None else None
    )
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.insecure:
        context.check_hostname = False
    return context

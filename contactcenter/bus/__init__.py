"""The MQTT event bus (aiomqtt 2.x): the engine's status, agents' states, queues' live stats
and every domain event, published under ``cc/v1/<site>/`` (``topics``) as JSON documented by
a JSON Schema per topic (``schemas/``). Off unless ``<config>/bus.yaml`` enables it.

Publishing only: supervisors' commands over MQTT would need the role checks and audit the
HTTP API has, so there are none.
"""

from contactcenter.bus.edge import BusEdge
from contactcenter.bus.metrics import BusCollector
from contactcenter.bus.settings import BusSettings, load_bus_settings
from contactcenter.bus.topics import Topics, UnsafeTopicLevel

__all__ = [
    "BusCollector",
    "BusEdge",
    "BusSettings",
    "Topics",
    "UnsafeTopicLevel",
    "load_bus_settings",
]

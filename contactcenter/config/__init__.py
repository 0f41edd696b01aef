"""Typed configuration: YAML files -> validated, frozen models (see ``models`` for vocabulary)."""

from contactcenter.config.center import (
    Center,
    ConfigError,
    ConfigIssue,
    build_center,
    can_serve_at_step,
    step_min_proficiency,
)
from contactcenter.config.loader import load_center
from contactcenter.config.models import (
    CHANNELS,
    AgentConfig,
    AnswerTarget,
    CallbackSettings,
    CenterSettings,
    Channel,
    ChannelSettings,
    Customer,
    EscalationStep,
    MaxWait,
    QueueConfig,
    RoutingSettings,
    Skill,
    Strategy,
    Tier,
)

__all__ = [
    "CHANNELS",
    "AgentConfig",
    "AnswerTarget",
    "CallbackSettings",
    "Center",
    "CenterSettings",
    "Channel",
    "ChannelSettings",
    "ConfigError",
    "ConfigIssue",
    "Customer",
    "EscalationStep",
    "MaxWait",
    "QueueConfig",
    "RoutingSettings",
    "Skill",
    "Strategy",
    "Tier",
    "build_center",
    "can_serve_at_step",
    "load_center",
    "step_min_proficiency",
]

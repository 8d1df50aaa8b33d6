"""Configuration: one typed object, read once from the YAML file named by MEDIC_CONFIG and the
environment (which wins), then passed down. Nothing else reads the environment.

One module per concern - :mod:`~bot.config.diagnosis`, :mod:`~bot.config.metrics`,
:mod:`~bot.config.front`, :mod:`~bot.config.llm`, :mod:`~bot.config.logs`, :mod:`~bot.config.state`,
:mod:`~bot.config.registry` - gathered by
:class:`Settings` (:mod:`~bot.config.settings`) and read by :func:`load_settings`
(:mod:`~bot.config.loading`). Import from the package: ``from bot.config import Settings``.
"""

from bot.config.clusters import ClusterSettings
from bot.config.diagnosis import (
    DetectorSettings,
    InvestigationSettings,
    MemberSettings,
    ModelSettings,
    VerificationSettings,
)
from bot.config.front import ReceiverSettings, SlackSettings, WebhookSettings
from bot.config.llm import LLMSettings
from bot.config.loading import load_settings
from bot.config.logs import LogsSettings
from bot.config.metrics import DEFAULT_QUERIES, MetricsSettings
from bot.config.registry import RegistrySettings
from bot.config.settings import Settings
from bot.config.state import DatabaseSettings, ReconcileSettings
from bot.config.watch import QuietHours, RightSizingSettings, WatchSettings

__all__ = [
    "DEFAULT_QUERIES",
    "ClusterSettings",
    "DatabaseSettings",
    "DetectorSettings",
    "InvestigationSettings",
    "LLMSettings",
    "LogsSettings",
    "MemberSettings",
    "MetricsSettings",
    "ModelSettings",
    "QuietHours",
    "ReceiverSettings",
    "ReconcileSettings",
    "RegistrySettings",
    "RightSizingSettings",
    "Settings",
    "SlackSettings",
    "VerificationSettings",
    "WatchSettings",
    "WebhookSettings",
    "load_settings",
]

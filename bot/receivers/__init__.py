"""Alerts from tools other than Alertmanager - Grafana, Datadog, PagerDuty, Opsgenie, any JSON
sender - made the alert group Alertmanager's webhook gives (pure translations, one module per
source), and notes written back on PagerDuty incidents and Opsgenie alerts (:mod:`.notes`).
The HTTP side is :mod:`bot.slack.receivers`."""

from bot.receivers.datadog import datadog_group
from bot.receivers.generic import generic_group
from bot.receivers.grafana import grafana_group
from bot.receivers.opsgenie import opsgenie_group
from bot.receivers.pagerduty import Claim, SeenEvents, pagerduty_group, signature_valid

__all__ = [
    "Claim",
    "SeenEvents",
    "datadog_group",
    "generic_group",
    "grafana_group",
    "opsgenie_group",
    "pagerduty_group",
    "signature_valid",
]

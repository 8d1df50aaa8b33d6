"""Medic's bot: alert intake, the investigation pipeline, planning, approval, the CLI and Slack."""

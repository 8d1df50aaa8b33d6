"""The Slack app: alert threads, Block Kit, buttons, slash commands, the Alertmanager webhook and
the `medic serve` server (HTTP and Socket Mode)."""

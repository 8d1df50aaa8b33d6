"""The app manifest declares what the bot uses: the command, the scopes of every Web API method it
calls, the events it listens to, and one request URL for all of it."""

from __future__ import annotations

from pathlib import Path

import yaml

import bot.slack

MANIFEST = Path(bot.slack.__file__).with_name("manifest.yaml")


def test_manifest_matches_the_bot() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/medic"
    scopes = {"chat:write", "commands", "files:write", "channels:history", "app_mentions:read"}
    assert scopes <= set(manifest["oauth_config"]["scopes"]["bot"])
    settings = manifest["settings"]
    assert {"message.channels", "app_mention"} <= set(settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"] is True
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")

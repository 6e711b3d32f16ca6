#!/usr/bin/env python3
"""Stash plugin (raw interface): forwards scene hooks to stash2plex's webhook.

Stash runs this once per hook with the plugin input as JSON on stdin. It reads its two
settings (URL and token) from Stash's configuration, posts the hook context to
POST {url}/hooks/stash, and prints a plugin output JSON. Standard library only, so it runs
inside Stash's own container. A failure is logged to Stash and never blocks the edit: the
stash2plex poller still finds the change.
"""
import json
import os
import sys
import urllib.error
import urllib.request

PLUGIN_ID = "stash2plex"
TIMEOUT_SECONDS = 5


def log(level, message):
    # Stash reads plugin log lines from stderr; \x01<level>\x02 selects the level.
    sys.stderr.write(f"\x01{level}\x02[stash2plex] {message}\n")
    sys.stderr.flush()


def post_json(url, body, headers=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.status, json.loads(response.read() or b"null")


def stash_settings(connection):
    """The plugin's settings, asked of Stash with the session Stash gave this run."""
    scheme = connection.get("Scheme", "http")
    host = connection.get("Host") or "localhost"
    host = "localhost" if host == "0.0.0.0" else host
    url = f"{scheme}://{host}:{connection.get('Port', 9999)}/graphql"
    headers = {}
    cookie = connection.get("SessionCookie") or {}
    if cookie.get("Name"):
        headers["Cookie"] = f"{cookie['Name']}={cookie.get('Value', '')}"
    if connection.get("ApiKey"):
        headers["ApiKey"] = connection["ApiKey"]
    query = {"query": "query($ids: [ID!]) { configuration { plugins(include: $ids) } }", "variables": {"ids": [PLUGIN_ID]}}
    _, answer = post_json(url, query, headers)
    return ((answer or {}).get("data") or {}).get("configuration", {}).get("plugins", {}).get(PLUGIN_ID) or {}


def main():
    raw = sys.stdin.read()
    plugin_input = json.loads(raw) if raw.strip() else {}
    hook = (plugin_input.get("args") or {}).get("hookContext")
    if not hook:
        return {"output": "no hook context: nothing to do"}

    # Environment variables win, which also makes the plugin testable outside Stash.
    settings = {}
    if not (os.environ.get("STASH2PLEX_URL") and os.environ.get("STASH2PLEX_TOKEN")):
        try:
            settings = stash_settings(plugin_input.get("server_connection") or {})
        except (urllib.error.URLError, OSError, ValueError) as err:
            log("w", f"cannot read the plugin settings from Stash: {err}")
    url = (os.environ.get("STASH2PLEX_URL") or settings.get("url") or "").rstrip("/")
    token = os.environ.get("STASH2PLEX_TOKEN") or settings.get("token") or ""
    if not url or not token:
        log("w", "set the stash2plex URL and webhook token in Settings > Plugins > stash2plex")
        return {"error": "stash2plex URL or token not set"}

    body = {"hookContext": {"type": hook.get("type", ""), "id": hook.get("id")}}
    try:
        status, answer = post_json(f"{url}/hooks/stash", body, {"Authorization": f"Bearer {token}"})
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:300]
        log("w", f"stash2plex refused {body['hookContext']['type']} {hook.get('id')}: HTTP {err.code} {detail}")
        return {"error": f"HTTP {err.code}"}
    except (urllib.error.URLError, OSError) as err:
        log("w", f"cannot reach stash2plex at {url}: {err}; the poller will pick the change up")
        return {"error": "stash2plex unreachable"}
    return {"output": f"stash2plex answered {status}: {json.dumps(answer)}"}


if __name__ == "__main__":
    print(json.dumps(main()))

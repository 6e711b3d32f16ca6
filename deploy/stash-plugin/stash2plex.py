#!/usr/bin/env python3
"""Stash plugin (raw interface): forwards scene hooks to stash2plex's webhook, and runs the
tasks Stash offers under Settings > Tasks (sync, reconcile, requeue, status).

Stash runs this once per hook or task with the plugin input as JSON on stdin. It reads its
settings (URL, webhook token, admin token) from Stash's configuration. A hook posts the
hook context to POST {url}/hooks/stash; a task calls stash2plex's admin API. It prints a
plugin output JSON. Standard library only, so it runs inside Stash's own container. A
failure is logged to Stash in one readable line and never blocks an edit: the stash2plex
poller still finds the change.
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


def get_json(url, headers=None):
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
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


def summary(status):
    """stash2plex's /api/status as a few lines a person reads in Stash's task log."""
    queue = status.get("queue") or {}
    lines = [
        f"stash2plex {status.get('version', '?')}: push {status.get('push', '?')}, circuit breaker {status.get('breaker', '?')}",
        f"queue: {queue.get('pending', 0)} waiting ({queue.get('due', 0)} due, {queue.get('waitingForPlexToFetch', 0)} awaiting Plex), "
        f"{queue.get('delivered', 0)} scenes delivered so far",
        f"dead letters: {len(status.get('deadLetters') or [])}",
    ]
    for dead in (status.get("deadLetters") or [])[:5]:
        lines.append(f"  scene {dead.get('scene_id')}: {dead.get('last_error')}")
    outages = status.get("outages") or []
    if outages:
        last = outages[0]
        lines.append(f"Plex outages recorded: {len(outages)}; the last {'is ongoing' if not last.get('ended_at') else 'ended'}")
    reconcile = (status.get("reconcile") or {}).get("last")
    if reconcile:
        counts = ", ".join(f"{k} {v}" for k, v in (reconcile.get("counts") or {}).items()) or "no gaps"
        lines.append(f"last reconcile: {reconcile.get('status')}: {counts}")
    return lines


TASKS = {
    "sync_all": ("POST", "/api/sync", {"all": True}),
    "sync_recent": ("POST", "/api/sync", {"since": "7d"}),
    "reconcile": ("POST", "/api/reconcile", {"heal": True}),
    "requeue": ("POST", "/api/dead-letters/requeue", {}),
    "status": ("GET", "/api/status", None),
}


def run_task(mode, url, admin_token):
    if mode not in TASKS:
        log("e", f"unknown task mode {mode!r}")
        return {"error": f"unknown task {mode}"}
    if not url or not admin_token:
        log("e", "set the stash2plex URL and admin token in Settings > Plugins > stash2plex")
        return {"error": "stash2plex URL or admin token not set"}
    method, path, body = TASKS[mode]
    headers = {"Authorization": f"Bearer {admin_token}"}
    try:
        if method == "GET":
            _, answer = get_json(f"{url}{path}", headers)
        else:
            _, answer = post_json(f"{url}{path}", body, headers)
    except urllib.error.HTTPError as err:
        if err.code == 401:
            log("e", "stash2plex refused the admin token: copy it from stash2plex's first start or the admin-token file in its data folder")
            return {"error": "wrong admin token"}
        detail = err.read().decode("utf-8", "replace")[:300]
        log("e", f"stash2plex answered HTTP {err.code}: {detail}")
        return {"error": f"HTTP {err.code}"}
    except (urllib.error.URLError, OSError) as err:
        log("e", f"cannot reach stash2plex at {url}: {err}")
        return {"error": "stash2plex unreachable"}
    if mode == "status":
        for line in summary(answer or {}):
            log("i", line)
        return {"output": "\n".join(summary(answer or {}))}
    message = {
        "sync_all": lambda a: f"queued {a.get('queued', 0)} scene(s); stash2plex pushes them to Plex",
        "sync_recent": lambda a: f"queued {a.get('queued', 0)} scene(s) changed in the last 7 days",
        "reconcile": lambda a: "reconcile started; its report is on stash2plex's dashboard (Gaps)",
        "requeue": lambda a: f"requeued {a.get('requeued', 0)} dead letter(s)",
    }[mode](answer or {})
    log("i", message)
    return {"output": message}


def main():
    raw = sys.stdin.read()
    plugin_input = json.loads(raw) if raw.strip() else {}
    args = plugin_input.get("args") or {}
    hook = args.get("hookContext")
    mode = args.get("mode")
    if not hook and not mode:
        return {"output": "no hook context: nothing to do"}

    # Environment variables win, which also makes the plugin testable outside Stash.
    settings = {}
    if not (os.environ.get("STASH2PLEX_URL") and (os.environ.get("STASH2PLEX_TOKEN") or os.environ.get("STASH2PLEX_ADMIN_TOKEN"))):
        try:
            settings = stash_settings(plugin_input.get("server_connection") or {})
        except (urllib.error.URLError, OSError, ValueError) as err:
            log("w", f"cannot read the plugin settings from Stash: {err}")
    url = (os.environ.get("STASH2PLEX_URL") or settings.get("url") or "").rstrip("/")
    if mode:
        return run_task(mode, url, os.environ.get("STASH2PLEX_ADMIN_TOKEN") or settings.get("adminToken") or "")
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

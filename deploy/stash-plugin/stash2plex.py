#!/usr/bin/env python3
"""Stash plugin (raw interface): forwards scene hooks to stash2plex, and runs the tasks Stash
offers under Settings → Tasks (sync, reconcile, dead letters, status, health).

Stash runs this once per hook or task with the plugin input as JSON on stdin, and shows what it
writes to stderr in Stash's log (Settings → Logs). It reads its settings (URL, admin token,
optional webhook token) from Stash's configuration. One token is enough: the admin token runs
the tasks and forwards hooks (as a sync of the scene); the webhook token, when set, is used for
hooks instead, because it opens only stash2plex's webhook. It prints a plugin output JSON. A
failure is one readable line in Stash's log and never blocks an edit: stash2plex's poller still
finds the change.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import s2p_tasks  # noqa: E402
from s2p_http import ServiceError, log, request, stash_settings  # noqa: E402

PLUGIN_ID = "stash2plex"
SETTINGS_HINT = "Settings → Plugins → stash2plex"
# Stash fires these when a scene's metadata changes. A deleted scene has nothing left to push (a
# reconcile reports its Plex item as orphaned); a merge fires no scene hook in Stash (the poller
# finds the kept scene by its new updated_at).
PUSHED_HOOKS = ("Scene.Create.Post", "Scene.Update.Post")


def settings_of(plugin_input):
    """URL and tokens: environment variables win (which also makes the plugin testable outside Stash)."""
    env = {key: os.environ.get(f"STASH2PLEX_{name}", "") for key, name in (("url", "URL"), ("adminToken", "ADMIN_TOKEN"), ("token", "TOKEN"), ("instance", "INSTANCE"))}
    settings = {}
    if not (env["url"] and (env["adminToken"] or env["token"])):
        try:
            settings = stash_settings(plugin_input.get("server_connection") or {}, PLUGIN_ID)
        except ServiceError as err:
            log("w", f"cannot read the plugin settings from Stash: {err}")
    merged = {key: str(env[key] or settings.get(key) or "") for key in env}
    merged["url"] = merged["url"].rstrip("/")
    # The Stash this plugin runs in, as stash2plex knows it: empty means the first (default) one.
    merged["instance"] = merged["instance"].strip() or s2p_tasks.DEFAULT_INSTANCE
    return merged


def forward_hook(hook, settings):
    kind, scene_id = str(hook.get("type", "")), str(hook.get("id", ""))
    if kind not in PUSHED_HOOKS:
        return {"output": f"{kind} needs no push"}
    url, webhook_token, admin_token = settings["url"], settings["token"], settings["adminToken"]
    if not url or not (webhook_token or admin_token):
        log("w", f"set the stash2plex URL and admin token in {SETTINGS_HINT}; until then stash2plex's poller finds the change")
        return {"error": "stash2plex URL or token not set"}
    try:
        # Both name the Stash this plugin runs in (left out for the default), so the change is
        # pushed from this Stash, never as another Stash's scene with the same id.
        instance = settings.get("instance") or s2p_tasks.DEFAULT_INSTANCE
        if webhook_token:
            body = s2p_tasks.with_instance({"hookContext": {"type": kind, "id": hook.get("id")}}, instance)
            _, answer = request("POST", f"{url}/hooks/stash", body, webhook_token)
        else:
            _, answer = request("POST", f"{url}/api/sync", s2p_tasks.with_instance({"sceneIds": [scene_id]}, instance), admin_token)
    except ServiceError as err:
        which = "webhook token" if webhook_token else "admin token"
        if err.short == "HTTP 401":
            log("w", f"stash2plex refused the {which} for {kind} of scene {scene_id}: check it in {SETTINGS_HINT}")
        elif err.short == "unreachable":
            log("w", f"{err}; stash2plex's poller will pick the change up")
        else:
            log("w", f"stash2plex refused {kind} of scene {scene_id}: {err}")
        return {"error": "stash2plex unreachable" if err.short == "unreachable" else err.short}
    return {"output": f"scene {scene_id}: queued {(answer or {}).get('queued', 0)} push(es)"}


def run_task(mode, settings):
    url, admin_token = settings["url"], settings["adminToken"]
    if not url or not admin_token:
        log("e", f"set the stash2plex URL and admin token in {SETTINGS_HINT}")
        return {"error": "stash2plex URL or admin token not set"}
    try:
        lines = s2p_tasks.run(mode, url, admin_token, settings["instance"])
    except ServiceError as err:
        if err.short == "HTTP 401":
            log("e", "stash2plex refused the admin token: copy it from stash2plex's first start or the admin-token file in its data folder")
            return {"error": "wrong admin token"}
        if err.short == "unreachable":
            log("e", f"cannot reach stash2plex at {url}: {str(err).split(': ', 1)[-1]}")
            return {"error": "stash2plex unreachable"}
        log("e", str(err))
        return {"error": err.short}
    for line in lines:
        log("i", line)
    return {"output": "\n".join(lines)}


def main():
    raw = sys.stdin.read()
    try:
        plugin_input = json.loads(raw) if raw.strip() else {}
    except ValueError:
        log("e", "the plugin input from Stash is not JSON")
        return {"error": "bad plugin input"}
    args = plugin_input.get("args") or {}
    hook, mode = args.get("hookContext"), args.get("mode")
    if not hook and not mode:
        return {"output": "no hook context and no task: nothing to do"}
    settings = settings_of(plugin_input)
    return run_task(mode, settings) if mode else forward_hook(hook, settings)


if __name__ == "__main__":
    print(json.dumps(main()))

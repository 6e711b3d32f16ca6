"""The tasks Stash offers under Settings → Tasks, each one call (or a few) to stash2plex's admin
API with the admin token, and what each writes to Stash's log. The summaries are pure functions
of stash2plex's answers; times are written in UTC and say so."""
import os
import re
import time
from datetime import datetime, timezone

from s2p_http import ServiceError, log, request

# The Stash instance a plugin runs in when its "Stash instance id" setting is empty.
DEFAULT_INSTANCE = "default"
# A reconcile of a large library takes a minute or so; the task waits for its result this long.
RECONCILE_WAIT_SECONDS = 15 * 60
POLL_SECONDS = 1


def utc(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def minutes(ms):
    return f"{ms / 60000:.0f} min" if ms >= 60000 else f"{ms / 1000:.0f} s"


def plural(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


def dead_count(status):
    """All dead letters: /api/status lists the newest 50 and counts them all (an older service only lists)."""
    count = status.get("deadLetterCount")
    return count if isinstance(count, int) else len(status.get("deadLetters") or [])


def plugin_version():
    """This plugin's version, as its YAML (installed from stash2plex's plugin source) names it."""
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stash2plex.yml"), encoding="utf-8") as f:
            m = re.search(r"^version:\s*['\"]?([^'\"\s]+)", f.read(), re.M)
        return m.group(1) if m else None
    except OSError:
        return None


def older(a, b):
    """Whether version a is older than b ("0.2.0" < "0.10.0")."""
    def parts(v):
        return [int(p) if p.isdigit() else 0 for p in re.split(r"[.-]", str(v))]
    x, y = parts(a), parts(b)
    n = max(len(x), len(y))
    return x + [0] * (n - len(x)) < y + [0] * (n - len(y))


def version_line(service, plugin):
    """Which stash2plex the plugin talks to, and a warning when the plugin is the older one."""
    if not plugin or not service or service == "?":
        return f"stash2plex {service}"
    if older(plugin, service):
        return f"stash2plex {service} (this plugin is {plugin}, older: update it in Settings → Plugins → Installed Plugins)"
    return f"stash2plex {service} (plugin {plugin})"


def status_lines(status, plugin=None):
    """stash2plex's /api/status as a few lines a person reads in Stash's log."""
    queue = status.get("queue") or {}
    dead = status.get("deadLetters") or []
    lines = [
        f"{version_line(status.get('version', '?'), plugin)}: push {status.get('push', '?')}, circuit breaker {status.get('breaker', '?')}",
        f"queue: {queue.get('pending', 0)} waiting ({queue.get('due', 0)} due now, {queue.get('waitingForPlexToFetch', 0)} awaiting Plex's fetch), "
        f"{queue.get('delivered', 0)} scenes delivered so far",
        f"dead letters: {dead_count(status)}",
    ]
    for letter in dead[:5]:
        lines.append(f"  scene {letter.get('scene_id')}: {letter.get('last_error')}")
    lines.append(outage_line(status.get("outages") or [], time.time() * 1000))
    reconcile = (status.get("reconcile") or {}).get("last")
    if reconcile:
        lines.append(f"last reconcile ({utc(reconcile.get('finishedAt') or 0)}): {reconcile.get('status')}: {gap_counts(reconcile.get('counts'))}")
    return lines


def outage_line(outages, now_ms, days=7):
    """Plex outages over the last `days` days, from the outage history (newest first)."""
    since = now_ms - days * 86_400_000
    recent = [o for o in outages if (o.get("ended_at") or now_ms) > since]
    if not recent:
        return f"Plex outages in the last {days} days: none"
    down = sum((o.get("ended_at") or now_ms) - max(o.get("started_at") or 0, since) for o in recent)
    availability = 100 * (1 - down / (days * 86_400_000))
    last = recent[0]
    if last.get("ended_at"):
        latest = f"the last began {utc(last['started_at'])} and lasted {minutes(last['ended_at'] - last['started_at'])}"
    else:
        latest = f"Plex has been unreachable since {utc(last['started_at'])} ({plural(last.get('jobs_waiting') or 0, 'push', 'pushes')} waiting)"
    return f"Plex outages in the last {days} days: {len(recent)}, down {minutes(down)} in all ({availability:.2f}% available); {latest}"


def health_lines(ready, status):
    """/readyz (each part and why it fails) and the outage summary."""
    checks = (ready or {}).get("checks") or {}
    lines = [f"stash2plex is {'ready' if (ready or {}).get('ok') else 'NOT ready'}"]
    for name, check in checks.items():
        state = "ok" if check.get("ok") else "FAILING"
        lines.append(f"  {name}: {state}" + (f" ({check['detail']})" if check.get("detail") else ""))
    lines.append(f"circuit breaker (Plex): {status.get('breaker', '?')}; dead letters: {dead_count(status)}")
    lines.append(outage_line(status.get("outages") or [], time.time() * 1000))
    return lines


def gap_counts(counts):
    return ", ".join(f"{kind} {n}" for kind, n in (counts or {}).items() if n) or "no gaps"


def reconcile(base, token, heal):
    """Starts a reconcile and waits for its report, moving Stash's progress bar meanwhile."""
    _, started = request("POST", f"{base}/api/reconcile", {"heal": heal}, token)
    began = ((started or {}).get("progress") or {}).get("startedAt") or 0
    deadline = time.monotonic() + RECONCILE_WAIT_SECONDS
    while time.monotonic() < deadline:
        _, answer = request("GET", f"{base}/api/reconcile?limit=1", None, token)
        running = answer.get("running")
        last = answer.get("last") or {}
        if not running and (last.get("startedAt") or 0) >= began:
            return reconcile_lines(last, heal)
        if running and running.get("total"):
            log("p", round(min(1, running.get("done", 0) / running["total"]), 3))
        time.sleep(POLL_SECONDS)
    return [f"the reconcile is still running after {RECONCILE_WAIT_SECONDS // 60} min; its report will be on stash2plex's dashboard (Gaps)"]


def reconcile_lines(run, heal):
    if run.get("status") != "done":
        raise ServiceError("reconcile failed", run.get("error") or "the reconcile failed; see stash2plex's log")
    found = f"reconcile finished: {run.get('scenes', 0)} scenes and {run.get('items', 0)} Plex items compared; gaps: {gap_counts(run.get('counts'))}"
    if not heal:
        return [found, "report only: nothing was changed (the gaps and a heal button are on stash2plex's dashboard, Gaps)"]
    return [found, f"healed: {gap_counts(run.get('healed')).replace('no gaps', 'nothing')}"]


def dead_letter_line(letter):
    title = f' "{letter["title"]}"' if letter.get("title") else ""
    return f"  scene {letter.get('sceneId')}{title}: {letter.get('error')}"


def of_instance(letter, instance):
    """Whether a dead letter is of this Stash (the API leaves `instance` out for the default one)."""
    return (letter.get("instance") or DEFAULT_INSTANCE) == instance


def dead_letter_action(base, token, action, instance=DEFAULT_INSTANCE):
    """Retry or discard the dead letters of this Stash; names the first few first, so the log says which."""
    _, listed = request("GET", f"{base}/api/dead-letters?offset=0&limit=500", None, token)
    mine = [d for d in (listed or {}).get("items") or [] if of_instance(d, instance)]
    lines = [dead_letter_line(d) for d in mine[:10]]
    if len(mine) > len(lines):
        lines.append(f"  … and {len(mine) - len(lines)} more")
    # Only this Stash's: another Stash's scene with the same id is left alone.
    _, answer = request("POST", f"{base}/api/dead-letters/{action}", {"instance": instance}, token)
    if action == "retry":
        head = f"retrying {plural(answer.get('retried', 0), 'dead letter')}: stash2plex pushes them again now"
    else:
        head = f"discarded {plural(answer.get('discarded', 0), 'dead letter')}: a later edit or sync of those scenes pushes them again"
    return [head, *lines]


def with_instance(body, instance):
    """A body naming this Stash's instance (left out for the default, as before)."""
    return body if instance == DEFAULT_INSTANCE else {**body, "instance": instance}


def instance_line(status, instance):
    """This Stash's own part of /api/status, when stash2plex serves several."""
    instances = status.get("instances") or []
    own = next((i for i in instances if i.get("id") == instance), None)
    if len(instances) < 2:
        return []
    if not own:
        return [f"this Stash (instance {instance!r}) is not one of stash2plex's: {', '.join(i.get('id', '?') for i in instances)}; fix the plugin's Stash instance id"]
    queue = own.get("queue") or {}
    return [f"this Stash ({own.get('name')}, instance {instance}): {queue.get('pending', 0)} waiting, {queue.get('dead', 0)} dead letters, "
            f"circuit breaker {own.get('breaker', '?')}"]


def run(mode, base, token, instance=DEFAULT_INSTANCE):
    """Runs one task for the Stash `instance`; returns the lines to log at info level. Raises ServiceError."""
    if mode == "sync_all":
        _, answer = request("POST", f"{base}/api/sync", with_instance({"all": True}, instance), token)
        return [f"queued {answer.get('queued', 0)} scene(s); stash2plex pushes them to Plex"]
    if mode == "sync_recent":
        _, answer = request("POST", f"{base}/api/sync", with_instance({"since": "7d"}, instance), token)
        return [f"queued {answer.get('queued', 0)} scene(s) changed in the last 7 days"]
    if mode == "reconcile":
        return reconcile(base, token, heal=True)
    if mode == "reconcile_report":
        return reconcile(base, token, heal=False)
    if mode in ("retry", "discard"):
        return dead_letter_action(base, token, mode, instance)
    if mode == "status":
        _, status = request("GET", f"{base}/api/status", None, token)
        return status_lines(status or {}, plugin_version()) + instance_line(status or {}, instance)
    if mode == "health":
        _, ready = request("GET", f"{base}/readyz", None, token, accept_statuses=(503,))
        _, status = request("GET", f"{base}/api/status", None, token)
        return health_lines(ready, status or {})
    raise ServiceError("unknown task", f"unknown task mode {mode!r}")


MODES = ("sync_all", "sync_recent", "reconcile", "reconcile_report", "retry", "discard", "status", "health")

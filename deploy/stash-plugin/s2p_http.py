"""HTTP calls to stash2plex and Stash, and Stash's plugin log. Standard library only, so the
plugin runs inside Stash's own container. Every failure becomes a ServiceError whose message is
one line a person can act on; no token is ever part of a message."""
import json
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def log(level, message):
    # Stash reads plugin log lines from stderr; \x01<level>\x02 selects the level (t d i w e),
    # and \x01p\x02<0..1> moves the task's progress bar. They show in Stash's log (Settings → Logs),
    # where Stash puts "[Plugin / stash2plex] " in front of each.
    sys.stderr.write(f"\x01{level}\x02{message}\n")
    sys.stderr.flush()


class ServiceError(Exception):
    """A call that did not work; `short` is what the plugin output's error field says."""

    def __init__(self, short, message):
        super().__init__(message)
        self.short = short


def request(method, url, body=None, token=None, headers=None, accept_statuses=()):
    """JSON in, JSON out. A status in accept_statuses (e.g. /readyz's 503) is an answer, not an error."""
    all_headers = {"Accept": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        if err.code in accept_statuses:
            return err.code, json.loads(raw or b"null")
        raise ServiceError(f"HTTP {err.code}", f"{method} {path_of(url)} answered HTTP {err.code}: {error_text(raw)}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ServiceError("unreachable", f"cannot reach {origin_of(url)}: {reason}") from None
    except ValueError:
        raise ServiceError("bad answer", f"{method} {path_of(url)} did not answer JSON") from None


def error_text(raw):
    """stash2plex's error shape {"error": {"message"}} as its message; anything else cut short."""
    try:
        message = json.loads(raw)["error"]["message"]
        if isinstance(message, str):
            return message[:300]
    except (ValueError, KeyError, TypeError):
        pass
    return raw.decode("utf-8", "replace")[:300]


def origin_of(url):
    return "/".join(url.split("/", 3)[:3])


def path_of(url):
    rest = url.split("/", 3)
    return "/" + (rest[3] if len(rest) > 3 else "")


def stash_settings(connection, plugin_id):
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
    query = {"query": "query($ids: [ID!]) { configuration { plugins(include: $ids) } }", "variables": {"ids": [plugin_id]}}
    _, answer = request("POST", url, query, headers=headers)
    return ((answer or {}).get("data") or {}).get("configuration", {}).get("plugins", {}).get(plugin_id) or {}

/*
 * stash2plex's panel on Stash's scene page: the scene's state in Plex (delivered, waiting with the
 * last error, given up), its Plex items with links that open them in Plex Web, its place in each
 * TV library, and a "Push now" button. It reads stash2plex's per-scene status route with the
 * plugin's read-only token (it can read that and nothing else); the push goes through Stash's own
 * plugin operation, so no token that can change anything is ever in the browser. When stash2plex
 * does not answer, the panel says "stash2plex unreachable" and nothing more.
 */
(function () {
  "use strict";
  var PLUGIN = "stash2plex";
  var PLUGIN_VERSION = "__STASH2PLEX_PLUGIN_VERSION__";
  var POLL_MS = 3000;
  var current = { scene: null, timer: null, panel: null };

  function graphql(query, variables) {
    return fetch("graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (r) {
      return r.json();
    });
  }

  var settingsOnce = null;
  function settings() {
    settingsOnce =
      settingsOnce ||
      graphql("query($ids: [ID!]) { configuration { plugins(include: $ids) } }", { ids: [PLUGIN] }).then(
        function (answer) {
          var all = (answer && answer.data && answer.data.configuration && answer.data.configuration.plugins) || {};
          return all[PLUGIN] || {};
        },
      );
    return settingsOnce;
  }

  function sceneOfLocation() {
    var m = /\/scenes\/(\d+)(?:[/?#]|$)/.exec(window.location.pathname);
    return m ? m[1] : null;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 90) return s + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  /** Whether version a is older than b ("0.2.0" < "0.10.0"). */
  function older(a, b) {
    var x = String(a).split(/[.-]/).map(Number);
    var y = String(b).split(/[.-]/).map(Number);
    for (var i = 0; i < Math.max(x.length, y.length); i++) {
      var p = x[i] || 0;
      var q = y[i] || 0;
      if (p !== q) return p < q;
    }
    return false;
  }

  function stateLine(s) {
    if (s.state === "delivered") return el("p", { class: "s2p-state s2p-ok" }, ["In Plex: delivered " + ago(s.at)]);
    if (s.state === "waiting")
      return el("p", { class: "s2p-state s2p-wait" }, [
        "Waiting since " + ago(s.since) + (s.lastError ? ": " + s.lastError : ""),
      ]);
    if (s.state === "dead")
      return el("p", { class: "s2p-state s2p-bad" }, ["Given up (dead letter): " + (s.lastError || "see stash2plex")]);
    return el("p", { class: "s2p-state" }, ["Not pushed to Plex yet"]);
  }

  function render(panel, s, pushing) {
    var body = [el("h3", {}, ["Plex"]), stateLine(s)];
    if (s.items && s.items.length)
      body.push(
        el(
          "ul",
          { class: "s2p-items" },
          s.items.map(function (item) {
            var found = item.foundBy === "oshash" ? " (found by its fingerprint)" : item.foundBy ? " (found by its size and duration)" : "";
            return el("li", {}, [el("a", { href: item.url, target: "_blank", rel: "noopener" }, [item.title || "item " + item.ratingKey]), found]);
          }),
        ),
      );
    if (s.tv && s.tv.length)
      body.push(
        el(
          "ul",
          { class: "s2p-tv" },
          s.tv.map(function (t) {
            return el("li", {}, ["TV " + t.library + ": S" + t.season + "E" + t.episode + " of \u201c" + t.show + "\u201d"]);
          }),
        ),
      );
    var button = el("button", { type: "button", class: "btn btn-secondary s2p-push" }, [pushing ? "Pushing\u2026" : "Push now"]);
    if (pushing) button.setAttribute("disabled", "");
    button.addEventListener("click", function () {
      pushNow(panel);
    });
    body.push(button);
    if (s.version && older(PLUGIN_VERSION, s.version))
      body.push(
        el("p", { class: "s2p-note" }, [
          "stash2plex " + s.version + " is newer than this plugin (" + PLUGIN_VERSION + "): update it in Settings \u2192 Plugins",
        ]),
      );
    panel.replaceChildren.apply(panel, body);
  }

  function unreachable(panel, why) {
    panel.replaceChildren(el("h3", {}, ["Plex"]), el("p", { class: "s2p-muted" }, [why || "stash2plex unreachable"]));
  }

  function load(panel, scene, pushing) {
    return settings().then(function (cfg) {
      if (scene !== current.scene) return;
      var url = String(cfg.url || "").replace(/\/+$/, "");
      if (!url || !cfg.readToken) return unreachable(panel, "stash2plex: set its URL and read-only token in Settings \u2192 Plugins");
      var instance = cfg.instance ? "?instance=" + encodeURIComponent(cfg.instance) : "";
      return fetch(url + "/api/scene-status/" + scene + instance, {
        headers: { authorization: "Bearer " + cfg.readToken },
      })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (s) {
          if (scene !== current.scene) return;
          render(panel, s, pushing && s.state !== "delivered");
          clearTimeout(current.timer);
          // While a push is on its way, look again; a settled state is left alone.
          if (s.state === "waiting" || pushing) current.timer = setTimeout(function () { load(panel, scene, false); }, POLL_MS);
        })
        .catch(function () {
          if (scene === current.scene) unreachable(panel);
        });
    });
  }

  function pushNow(panel) {
    var scene = current.scene;
    graphql("mutation($p: ID!, $a: Map) { runPluginOperation(plugin_id: $p, args: $a) }", {
      p: PLUGIN,
      a: { hookContext: { type: "Scene.Update.Post", id: Number(scene) } },
    }).finally(function () {
      load(panel, scene, true);
    });
    var button = panel.querySelector(".s2p-push");
    if (button) {
      button.textContent = "Pushing\u2026";
      button.setAttribute("disabled", "");
    }
  }

  function mount() {
    var scene = sceneOfLocation();
    if (scene === current.scene && current.panel && document.contains(current.panel)) return;
    clearTimeout(current.timer);
    if (current.panel) current.panel.remove();
    current = { scene: scene, timer: null, panel: null };
    if (!scene) return;
    // The scene page's tabs column (Details, Queue, …) first; the page itself when Stash changes its layout.
    var host =
      document.querySelector(".scene-tabs") ||
      document.querySelector(".scene-details") ||
      document.querySelector("main") ||
      document.body;
    var panel = el("section", { class: "s2p-panel", "aria-label": "Plex", "aria-live": "polite" }, [
      el("h3", {}, ["Plex"]),
      el("p", { class: "s2p-muted" }, ["Asking stash2plex\u2026"]),
    ]);
    host.prepend(panel);
    current.panel = panel;
    load(panel, scene, false);
  }

  /** On Stash's plugin settings: which stash2plex this plugin talks to, and a warning when the plugin is older. */
  function settingsNote() {
    if (!/^\/settings/.test(window.location.pathname) || document.querySelector(".s2p-version")) return;
    var entry = Array.prototype.find.call(document.querySelectorAll(".plugin-settings, .card, section, li"), function (node) {
      return /stash2plex/.test(node.textContent || "") && !node.querySelector(".s2p-version");
    });
    if (!entry) return;
    var note = el("p", { class: "s2p-version s2p-muted" }, ["Asking stash2plex for its version\u2026"]);
    entry.appendChild(note);
    settings().then(function (cfg) {
      var url = String(cfg.url || "").replace(/\/+$/, "");
      if (!url || !cfg.readToken) return note.replaceChildren("stash2plex: set its URL and read-only token to see its version");
      fetch(url + "/api/scene-status", { headers: { authorization: "Bearer " + cfg.readToken } })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (s) {
          if (older(PLUGIN_VERSION, s.version)) {
            note.className = "s2p-version s2p-note";
            note.replaceChildren("This plugin (" + PLUGIN_VERSION + ") is older than stash2plex " + s.version + ": update it under Installed Plugins");
          } else note.replaceChildren("Talks to stash2plex " + s.version + " (plugin " + PLUGIN_VERSION + ")");
        })
        .catch(function () {
          note.replaceChildren("stash2plex unreachable");
        });
    });
  }

  var api = window.PluginApi;
  if (api && api.Event && api.Event.addEventListener) api.Event.addEventListener("stash:location", mount);
  window.addEventListener("popstate", mount);
  // Stash draws the scene page after its data arrives: mount again once its parts are there.
  new MutationObserver(function () {
    if (sceneOfLocation() !== current.scene || (current.panel && !document.contains(current.panel))) mount();
    settingsNote();
  }).observe(document.documentElement, { childList: true, subtree: true });
  mount();
  settingsNote();
})();

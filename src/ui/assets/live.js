// The dashboard's only script besides htmx (served from /ui/assets/, so a Content-Security-Policy
// without 'unsafe-inline' allows it). It makes a stale page say so: every page polls the service
// (its live parts, or at least the heartbeat), and when a poll fails the banner says why:
// 401 = the session ended ("signed out"), no answer at all = "connection lost". The next poll
// that succeeds clears it. It also holds a live part's refresh while the person is choosing
// in it (ticked boxes, a focused field), so a refresh never undoes their selection; and it
// names each table cell by its column, for the one-block-per-row layout on a phone.
(() => {
  var lastGood = new Date();

  function clock(d) {
    return d.toISOString().slice(11, 19) + " UTC";
  }

  function show(state, message, link) {
    var banner = document.getElementById("connection");
    document.body.setAttribute("data-connection", state);
    if (!banner) return;
    banner.textContent = "";
    banner.hidden = state === "live";
    if (state === "live") return;
    var strong = document.createElement("strong");
    strong.textContent = message[0];
    banner.appendChild(strong);
    banner.appendChild(document.createTextNode(" " + message[1] + " "));
    if (link) {
      var a = document.createElement("a");
      a.href = link[0];
      a.textContent = link[1];
      banner.appendChild(a);
    }
  }

  document.addEventListener("htmx:sendError", () => {
    show("lost", [
      "Connection lost:",
      "stash2plex does not answer. What you see is from " + clock(lastGood) + "; this page retries by itself.",
    ]);
  });
  document.addEventListener("htmx:timeout", () => {
    show("lost", [
      "Connection lost:",
      "stash2plex did not answer in time. What you see is from " + clock(lastGood) + "; this page retries by itself.",
    ]);
  });
  document.addEventListener("htmx:responseError", (e) => {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) {
      show(
        "signed-out",
        ["Signed out:", "your session has ended, so this page no longer updates."],
        ["/ui/sign-in", "Sign in again"],
      );
    } else if (xhr.status === 502 || xhr.status === 504) {
      // A reverse proxy in front answers for a service that is gone.
      show("lost", [
        "Connection lost:",
        "stash2plex does not answer (the proxy in front says " +
          xhr.status +
          "). What you see is from " +
          clock(lastGood) +
          "; this page retries by itself.",
      ]);
    } else {
      // A failed action answers a short readable text; anything else is named by its status.
      var text =
        (xhr.getResponseHeader("content-type") || "").indexOf("text/html") === 0
          ? xhr.responseText
              .replace(/<[^>]*>/g, " ")
              .replace(/\s+/g, " ")
              .trim()
          : "";
      show("failed", [
        "Not up to date:",
        (text || "the service answered " + xhr.status + ".").slice(0, 300) +
          " What you see is from " +
          clock(lastGood) +
          ".",
      ]);
    }
  });
  // A request that hangs (a half-open connection) counts as lost too, after two refresh intervals.
  if (window.htmx) window.htmx.config.timeout = 10000;
  document.addEventListener("htmx:afterRequest", (e) => {
    if (!e.detail.successful) return;
    lastGood = new Date();
    if (document.body.getAttribute("data-connection") !== "live") show("live");
  });
  // On a phone a table shows one block per row (style.css); each cell is named by its column.
  function labelCells() {
    var tables = document.querySelectorAll("main table");
    for (var t = 0; t < tables.length; t++) {
      var heads = tables[t].querySelectorAll("thead th");
      if (!heads.length) continue;
      var rows = tables[t].querySelectorAll("tbody tr");
      for (var r = 0; r < rows.length; r++) {
        var cells = rows[r].children;
        for (var c = 0; c < cells.length && c < heads.length; c++) {
          if (!cells[c].hasAttribute("data-label")) cells[c].setAttribute("data-label", heads[c].textContent.trim());
        }
      }
    }
  }
  document.addEventListener("DOMContentLoaded", labelCells);
  document.addEventListener("htmx:afterSettle", labelCells);

  document.addEventListener("htmx:beforeRequest", (e) => {
    var elt = e.detail.elt;
    if (elt.hasAttribute("data-hold-while-choosing") && elt.querySelector("input:checked, :focus")) e.preventDefault();
  });
})();

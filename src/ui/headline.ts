/**
 * Pure: the dashboard's one-line verdict. Red when something stops changes from reaching Plex
 * now, amber when something needs a person soon, green otherwise; always with what to do.
 * Notes (what never clears by itself and is no failure: gaps nobody can heal from here, scenes
 * no link can reach) never keep it amber, but a green title counts them: "All is well" must not
 * read as "there is nothing to know" above lines that say otherwise.
 */
import { plural } from "./plural.ts";

export interface HealthFacts {
  stash: { ok: boolean; detail?: string };
  plex: { ok: boolean; detail?: string } | null; // null: push is off
  database: { ok: boolean; detail?: string };
  breaker: string;
  pending: number;
  deadLetters: number;
  /** The oldest job still waiting, ms ago (0 when none). */
  oldestWaitingMs: number;
  /** healable: gaps this service can still heal; forAPerson: gaps it cannot heal from here (counted apart, never amber). */
  lastReconcile: { status: string; error: string | null; healable: number; forAPerson?: number } | null;
  /** Write-back (Plex → Stash) when on: events given up on, and events on their way to Stash. */
  writeback?: { failed: number; pending: number };
  /** TV libraries' problems (a failed pass, links the filesystem refused): "<library>: <why>". */
  tvProblems?: string[];
  /** Standing notes, one line each with where to read more: said, counted in a green title, never amber. */
  notes?: string[];
}

export interface Headline {
  level: "green" | "amber" | "red";
  title: string;
  todo: string[];
}

const minutes = (ms: number) => Math.round(ms / 60_000);
const pushes = (n: number) => plural(n, "push", "pushes");
/** "1 change waits", "12 changes wait". */
const waiting = (n: number) => `${plural(n, "change")} ${n === 1 ? "waits" : "wait"}`;

/**
 * What the circuit breaker's state means now, in the same words as the headline: the card and
 * the headline are read side by side, so they must never tell two stories.
 */
export function breakerText(breaker: string, plex: HealthFacts["plex"]): string {
  if (!plex) return "not used (push is off)";
  if (breaker === "open") return "open: pushes wait until Plex answers again";
  if (breaker === "half-open") return "half-open: Plex answers again; the next push resumes pushing";
  return plex.ok ? "closed: pushes go out" : "closed: no push has failed yet (3 failures in a row open it)";
}

export function headline(f: HealthFacts): Headline {
  // Each problem: a short title, and the sentence that says what to do.
  const red: [string, string][] = [];
  if (!f.database.ok)
    red.push([
      /damaged/.test(f.database.detail ?? "") ? "The database is damaged" : "The database cannot be written",
      // The database's health says what happened and what to do (store/health.ts).
      f.database.detail
        ? `${f.database.detail.charAt(0).toUpperCase()}${f.database.detail.slice(1)}.`
        : "The database cannot be written: free disk space or fix the data folder's permissions.",
    ]);
  if (!f.stash.ok)
    red.push([
      "Stash does not answer",
      `Stash does not answer (${f.stash.detail ?? "no detail"}): check STASH_URL and STASH_API_KEY. Plex's matches answer empty until it does.`,
    ]);
  if (f.plex && !f.plex.ok) {
    red.push([
      "Plex does not answer",
      `Plex does not answer (${f.plex.detail ?? "no detail"}): check PLEX_URL and PLEX_TOKEN. ${waiting(f.pending)} in the queue and ${f.pending === 1 ? "is" : "are"} pushed when it returns; nothing is lost.`,
    ]);
  } else if (f.plex && f.breaker === "open") {
    // Plex answers a check but pushes failed: say that, not "does not answer" beside a card saying it answers.
    red.push([
      "Pushes to Plex are paused",
      `Pushes to Plex failed several times in a row, so the circuit breaker paused them; it tries Plex again by itself and resumes. ${waiting(f.pending)} in the queue; nothing is lost. See Queue for the last error.`,
    ]);
  }
  if (red.length)
    return {
      level: "red",
      title: red.length > 1 ? "Several things are wrong" : red[0]![0],
      todo: red.map(([, text]) => text),
    };
  const amber: [string, string][] = [];
  if (!f.plex) amber.push(["Push is off", "Push is off: set PLEX_URL and PLEX_TOKEN so changes in Stash reach Plex."]);
  if (f.deadLetters)
    amber.push([
      `${pushes(f.deadLetters)} gave up`,
      `${pushes(f.deadLetters)} gave up: see Queue for the reasons; fix them, then retry (or discard).`,
    ]);
  if (f.oldestWaitingMs > 15 * 60_000)
    amber.push([
      "A change is late",
      `A change has waited ${minutes(f.oldestWaitingMs)} min: see Queue for its last error.`,
    ]);
  if (f.lastReconcile?.status === "failed")
    amber.push([
      "The last reconcile stopped",
      `The last reconcile stopped: ${f.lastReconcile.error ?? "unknown"}. Run it again from Gaps.`,
    ]);
  else if (f.lastReconcile && f.lastReconcile.healable > 0) {
    amber.push([
      "Gaps to heal",
      `The last reconcile found ${plural(f.lastReconcile.healable, "gap")} that can be healed: see Gaps.`,
    ]);
  }
  const wbFailed = f.writeback?.failed ?? 0;
  if (wbFailed)
    amber.push([
      `${plural(wbFailed, "write-back event")} failed`,
      `${plural(wbFailed, "event")} from Plex could not be written to Stash: see Write-back for the reasons.`,
    ]);
  for (const problem of f.tvProblems ?? [])
    amber.push(["A TV library is not in sync", `TV library ${problem} (see the TV libraries table below).`]);
  // Gaps nobody can heal from here (a file Stash does not know, a scene Stash emptied) are a note like the others.
  const forAPerson = f.lastReconcile?.status === "done" ? (f.lastReconcile.forAPerson ?? 0) : 0;
  const apart = [
    ...(forAPerson
      ? [
          `${plural(forAPerson, "gap")} cannot be healed from here and ${forAPerson === 1 ? "needs" : "need"} a person: see Gaps.`,
        ]
      : []),
    ...(f.notes ?? []),
  ];
  if (amber.length)
    return {
      level: "amber",
      title: amber.length > 1 ? `${amber.length} things need a look` : amber[0]![0],
      todo: [...amber.map(([, text]) => text), ...apart],
    };
  return {
    level: "green",
    title: apart.length ? `All is well — ${plural(apart.length, "note")}` : "All is well",
    todo: [
      f.pending
        ? `${plural(f.pending, "change")} on ${f.pending === 1 ? "its" : "their"} way to Plex.`
        : "Plex shows what Stash holds; nothing waits.",
      ...(f.writeback?.pending
        ? [
            `${plural(f.writeback.pending, "event")} from Plex on ${f.writeback.pending === 1 ? "its" : "their"} way to Stash.`,
          ]
        : []),
      ...apart,
    ],
  };
}

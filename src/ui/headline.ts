/**
 * Pure: the dashboard's one-line verdict. Red when something stops changes from reaching Plex
 * now, amber when something needs a person soon, green otherwise; always with what to do.
 */

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
}

export interface Headline {
  level: "green" | "amber" | "red";
  title: string;
  todo: string[];
}

const minutes = (ms: number) => Math.round(ms / 60_000);

export function headline(f: HealthFacts): Headline {
  // Each problem: a short title, and the sentence that says what to do.
  const red: [string, string][] = [];
  if (!f.database.ok) red.push(["The database cannot be written", `The database cannot be written (${f.database.detail ?? "unknown"}): free disk space or fix the data folder's permissions.`]);
  if (!f.stash.ok) red.push(["Stash does not answer", `Stash does not answer (${f.stash.detail ?? "no detail"}): check STASH_URL and STASH_API_KEY. Plex's matches answer empty until it does.`]);
  if (f.plex && (!f.plex.ok || f.breaker === "open")) {
    red.push(["Plex does not answer", `Plex does not answer (${f.plex.detail ?? "the circuit breaker is open"}): check PLEX_URL and PLEX_TOKEN. ${f.pending} change(s) wait in the queue and are pushed when it returns; nothing is lost.`]);
  }
  if (red.length) return { level: "red", title: red.length > 1 ? "Several things are wrong" : red[0]![0], todo: red.map(([, text]) => text) };
  const amber: [string, string][] = [];
  if (!f.plex) amber.push(["Push is off", "Push is off: set PLEX_URL and PLEX_TOKEN so changes in Stash reach Plex."]);
  if (f.deadLetters) amber.push([`${f.deadLetters} push(es) gave up`, `${f.deadLetters} push(es) gave up: see Queue for the reasons, fix them, then requeue.`]);
  if (f.oldestWaitingMs > 15 * 60_000) amber.push(["A change is late", `A change has waited ${minutes(f.oldestWaitingMs)} min: see Queue for its last error.`]);
  if (f.lastReconcile?.status === "failed") amber.push(["The last reconcile stopped", `The last reconcile stopped: ${f.lastReconcile.error ?? "unknown"}. Run it again from Gaps.`]);
  else if (f.lastReconcile && f.lastReconcile.healable > 0) amber.push(["Gaps to heal", `The last reconcile found ${f.lastReconcile.healable} gap(s) that can be healed: see Gaps.`]);
  // Gaps nobody can heal from here (a file Stash does not know, a scene Stash emptied) are said, but never keep the headline amber.
  const forAPerson = f.lastReconcile?.status === "done" ? f.lastReconcile.forAPerson ?? 0 : 0;
  const apart = forAPerson ? [`${forAPerson} gap${forAPerson === 1 ? "" : "s"} cannot be healed from here and ${forAPerson === 1 ? "needs" : "need"} a person: see Gaps.`] : [];
  if (amber.length) return { level: "amber", title: amber.length > 1 ? `${amber.length} things need a look` : amber[0]![0], todo: [...amber.map(([, text]) => text), ...apart] };
  return { level: "green", title: "All is well", todo: [f.pending ? `${f.pending} change(s) on their way to Plex.` : "Plex shows what Stash holds; nothing waits.", ...apart] };
}

/**
 * Stash's `updated_at` stamps as Stash itself compares them. Stash writes RFC 3339 in the
 * server's LOCAL time with its offset (`2026-11-24T03:03:05-05:00`, `…Z` at UTC) and a
 * `updated_at > ?` filter compares TEXT in SQLite (pkg/sqlite, getTimestampWhereClause). So
 * bounds we send must be wall-clock strings in the server's terms, never UTC instants: within
 * one offset text order is time order; across an offset change (DST, a new TZ) it is not.
 * Pure functions, no I/O.
 */

/** The wall-clock second of a stamp, `YYYY-MM-DDTHH:MM:SS`: sorts below every stamp of that second. */
export const secondOf = (stamp: string): string => stamp.slice(0, 19);

/** Minutes east of UTC that a stamp carries (`Z` = 0); undefined when it has none. */
export function offsetOf(stamp: string): number | undefined {
  if (stamp.endsWith("Z")) return 0;
  const m = /([+-])(\d{2}):(\d{2})$/.exec(stamp);
  if (!m) return undefined;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** The wall-clock second (`YYYY-MM-DDTHH:MM:SS`) of instant `ms` at `offsetMinutes` east of UTC. */
export const wallClock = (ms: number, offsetMinutes: number): string =>
  new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 19);

/** A full stamp, as Stash would write instant `ms` at `offsetMinutes`. */
export function stampAt(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return `${wallClock(ms, 0)}Z`;
  const abs = Math.abs(offsetMinutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${wallClock(ms, offsetMinutes)}${offsetMinutes < 0 ? "-" : "+"}${hhmm}`;
}

/** The instant of a stamp in ms, or NaN. */
export const instantOf = (stamp: string): number => Date.parse(stamp);

/** The greater of two stamps in Stash's (text) order. */
export const textMax = (a: string, b: string): string => (a >= b ? a : b);

/** Pure: availability, MTTR and MTBF of Plex over a window, from the outage history. */

export interface OutageSpan {
  started_at: number;
  ended_at: number | null;
}

export interface OutageStats {
  days: number;
  outages: number;
  downMs: number;
  /** 0–1 */
  availability: number;
  /** Mean time to repair (ended outages in the window); null without any. */
  mttrMs: number | null;
  /** Mean time between failures: time up ÷ outages; null without any. */
  mtbfMs: number | null;
}

export function outageStats(outages: OutageSpan[], days: number, now: number): OutageStats {
  const windowMs = days * 86_400_000;
  const from = now - windowMs;
  const inWindow = outages.filter((o) => (o.ended_at ?? now) > from);
  const downMs = inWindow.reduce((sum, o) => sum + Math.max(0, (o.ended_at ?? now) - Math.max(o.started_at, from)), 0);
  const ended = inWindow.filter((o) => o.ended_at !== null);
  return {
    days,
    outages: inWindow.length,
    downMs,
    availability: 1 - downMs / windowMs,
    mttrMs: ended.length ? ended.reduce((s, o) => s + (o.ended_at! - o.started_at), 0) / ended.length : null,
    mtbfMs: inWindow.length ? (windowMs - downMs) / inWindow.length : null,
  };
}

/** Pure: availability, MTTR and MTBF of Plex over a window, from the outages in that window. */

export interface OutageSpan {
  started_at: number;
  ended_at: number | null;
}

export interface OutageStats {
  days: number;
  /** Outages that overlap the window. */
  outages: number;
  /** Time down inside the window (an outage that began before it counts from its start). */
  downMs: number;
  /** 0–1, over the whole window. */
  availability: number;
  /** Mean time to repair: the mean length of the ended outages in the window; null without any. */
  mttrMs: number | null;
  /**
   * Mean time between failures: the mean time up between one outage's end and the next one's
   * start, both in the window; null with fewer than two outages (one outage has no "between":
   * dividing the window by it would report the window's length, not anything Plex did).
   */
  mtbfMs: number | null;
}

export function outageStats(outages: OutageSpan[], days: number, now: number): OutageStats {
  const windowMs = days * 86_400_000;
  const from = now - windowMs;
  const inWindow = outages
    .filter((o) => (o.ended_at ?? now) > from && o.started_at <= now)
    .sort((a, b) => a.started_at - b.started_at);
  const downMs = inWindow.reduce((sum, o) => sum + Math.max(0, (o.ended_at ?? now) - Math.max(o.started_at, from)), 0);
  const ended = inWindow.filter((o) => o.ended_at !== null);
  const upBetween = inWindow
    .slice(1)
    .map((o, i) => Math.max(0, o.started_at - (inWindow[i]!.ended_at ?? o.started_at)));
  return {
    days,
    outages: inWindow.length,
    downMs,
    availability: 1 - downMs / windowMs,
    mttrMs: ended.length ? ended.reduce((s, o) => s + (o.ended_at! - o.started_at), 0) / ended.length : null,
    mtbfMs: upBetween.length ? upBetween.reduce((a, b) => a + b, 0) / upBetween.length : null,
  };
}

/**
 * A share as a percentage that never rounds a real outage away: with any downtime it reads
 * below 100%, with enough decimals to show two digits of the downtime (99.99975%, 99.50%).
 */
export function percentText(share: number): string {
  if (share >= 1) return "100%";
  if (share <= 0) return "0%";
  const downPercent = (1 - share) * 100;
  const decimals = Math.min(10, Math.max(1, Math.ceil(-Math.log10(downPercent)) + 1));
  const scale = 10 ** decimals;
  return `${(Math.floor(share * 100 * scale) / scale).toFixed(decimals)}%`;
}

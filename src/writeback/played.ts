/**
 * Time played (Stash's play_duration): measured where Plex tells of it, since neither a webhook
 * nor a notification carries it. Between two reports of a viewing while it plays, the time
 * played is the position's progress, at most the wall-clock time between them: a seek forward
 * is not time played, a pause or a stall moves no position, and a playback faster than 1×
 * counts the time it took (Stash's own player counts wall time too).
 *
 * `createPlayingClock` keeps the open stretches of the webhooks' viewings (media.play/resume
 * open one, media.pause/stop/scrobble close it); the notification path keeps its own per
 * session (notifications.ts). Both in memory: a restart loses the stretch under way (less time
 * counted, never more).
 */

/** Time played between two reports (ms): the position's progress, capped by the wall time. */
export function playedBetween(
  from: { atMs: number; offsetMs?: number },
  to: { atMs: number; offsetMs?: number },
): number {
  const wall = Math.max(0, to.atMs - from.atMs);
  if (from.offsetMs === undefined || to.offsetMs === undefined) return wall;
  return Math.min(wall, Math.max(0, to.offsetMs - from.offsetMs));
}

/** Stretches older than this are forgotten (a player that never said stop). */
const MAX_AGE_MS = 12 * 3600_000;
const MAX_OPEN = 500;

export function createPlayingClock() {
  const open = new Map<string, { atMs: number; offsetMs?: number }>();
  return {
    /** A viewing plays from here (a repeated start keeps the first: a webhook delivered twice). */
    start(key: string, atMs: number, offsetMs?: number) {
      if (open.has(key)) return;
      for (const [k, s] of open) if (open.size >= MAX_OPEN || atMs - s.atMs > MAX_AGE_MS) open.delete(k);
      open.set(key, { atMs, offsetMs });
    },
    /** It stopped playing here: the time played since its start, or undefined when none was open. */
    stop(key: string, atMs: number, offsetMs?: number): number | undefined {
      const s = open.get(key);
      if (!s) return undefined;
      open.delete(key);
      return playedBetween(s, { atMs, offsetMs });
    },
    size: () => open.size,
  };
}
export type PlayingClock = ReturnType<typeof createPlayingClock>;

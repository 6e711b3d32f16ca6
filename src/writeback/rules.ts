/**
 * Write-back's rules, pure (no I/O): who counts, how Plex's stars and Stash's rating100 compare,
 * when a play is already in Stash's history, what resume point a stop means, and when a rating
 * event is only the echo of our own push. apply.ts reads Stash, asks these, and writes.
 */

/** Plex's account ids are its own numbering on the server: 1 is the server owner. */
export const OWNER_ACCOUNT_ID = "1";

/**
 * Which Plex accounts' viewing counts: the owner alone when no list is given; otherwise the
 * accounts listed, by id or by name (case-insensitive). A list replaces the default: list the
 * owner too to keep them.
 */
export function isAllowedAccount(account: { id: string; name?: string }, users: readonly string[]): boolean {
  if (users.length === 0) return account.id === OWNER_ACCOUNT_ID;
  const name = account.name?.toLowerCase();
  return users.some((u) => u === account.id || (name !== undefined && u.toLowerCase() === name));
}

/**
 * Plex stars (0–10, a star is 2, so 4 stars = 8) → Stash's rating100 (0–100): ×10, whole.
 * Plex takes any value in 0–10 through its API (our push sends Stash's 73 as 7.3).
 */
export const toRating100 = (plex: number): number => Math.min(100, Math.max(0, Math.round(plex * 10)));
/** Stash's rating100 → Plex's 0–10, as our push sends it (sync/push.ts rateAsUser). */
export const toPlexRating = (rating100: number): number => Math.min(10, Math.max(0, rating100 / 10));

/**
 * Half of Plex's finest step in rating100 units. Plex's finest step is half a star, 1 on its
 * 0–10 scale, 10 on Stash's: a Stash value within 5 of 10 × Plex's shows as that rating, so
 * they agree. Stash 73 agrees with Plex 7 (70) and 7.5 (75), and 7.3 (our own push of 73), but
 * not with 8 (80): four stars given in Plex is a change from 73, which shows as 3.5.
 */
export const AGREE_WITHIN = 5;

/** Plex's 0–10 in stars, as Plex shows them ("4 stars", "3.5 stars", "1 star"). */
export const stars = (plex: number): string => {
  const n = Math.round(plex * 5) / 10;
  return `${n} ${n === 1 ? "star" : "stars"}`;
};

/** Whether Stash's rating100 and Plex's 0–10 say the same (both unset counts as the same). */
export function ratingsAgree(rating100: number | null | undefined, plex: number | null | undefined): boolean {
  if (rating100 == null || plex == null) return rating100 == null && plex == null;
  return Math.abs(rating100 - plex * 10) < AGREE_WITHIN;
}

/** How long a rate event equal to a rating we pushed to Plex is taken as its echo, not a user's rating. */
export const ECHO_WINDOW_MS = 10 * 60_000;

/** What Plex's rating of an item was last known to be, and who set it. */
export interface KnownPlexRating {
  /** 0–10; null: none. */
  value: number | null;
  /** `push`: our push set it (ratingAs=user); `plex`: a user rated in Plex (a write-back event). */
  by: "push" | "plex";
  /** When (ms). */
  at: number;
}

export type RatingDecision =
  | { write: true; rating100: number | null; why: string }
  | { write: false; reason: "echo" | "agrees" | "kept"; why: string };

/**
 * What a rate event (Plex's new rating, null: cleared) does to Stash's rating100:
 * - the echo of our own push (equal to what we pushed to that item within ECHO_WINDOW_MS): nothing;
 * - a value that agrees with Stash's after the scales' rounding: nothing (73 is never made 70);
 * - cleared in Plex: Stash's rating is cleared only when it agrees with what Plex had before
 *   (it came from Plex or went to it); a Stash rating Plex did not show, or one we cannot tell,
 *   is the user's choice in Stash and is kept;
 * - otherwise the new value, ×10.
 */
export function decideRating(
  plex: number | null,
  stash: number | null | undefined,
  known: KnownPlexRating | undefined,
  at: number,
): RatingDecision {
  if (
    known?.by === "push" &&
    Math.abs(at - known.at) <= ECHO_WINDOW_MS &&
    (known.value === null ? plex === null : plex !== null && Math.abs(known.value - plex) < 0.05)
  ) {
    return { write: false, reason: "echo", why: "the echo of the rating our push set in Plex" };
  }
  if (plex === null) {
    if (stash == null) return { write: false, reason: "agrees", why: "no rating on either side" };
    if (known?.value != null && ratingsAgree(stash, known.value))
      return {
        write: true,
        rating100: null,
        why: `rating cleared (Stash's ${stash}/100 was Plex's ${stars(known.value)})`,
      };
    return {
      write: false,
      reason: "kept",
      why: `cleared in Plex, but Stash's rating ${stash}/100 is not known to be what Plex showed: kept`,
    };
  }
  if (ratingsAgree(stash, plex))
    return { write: false, reason: "agrees", why: `Stash's rating ${stash}/100 already shows as ${stars(plex)}` };
  return { write: true, rating100: toRating100(plex), why: `rating ${toRating100(plex)}/100 (${stars(plex)})` };
}

/** Two times within this are one play: Stash keeps plays to the second, Plex's sources may differ by one. */
export const SAME_PLAY_MS = 2000;

/** Whether Stash's play history (RFC 3339 texts) has a play at `at` (± SAME_PLAY_MS). */
export function hasPlayAt(history: readonly string[], at: number): boolean {
  return history.some((t) => Math.abs(Date.parse(t) - at) <= SAME_PLAY_MS);
}

/** Plex counts an item watched past this share of it (its default "video played threshold"), and clears its resume point. */
export const WATCHED_SHARE = 0.9;

/** The resume point a stop at `viewOffsetMs` means, in Stash's seconds: 0 past the watched threshold. */
export function resumeSeconds(viewOffsetMs: number, durationMs?: number): number {
  if (durationMs && durationMs > 0 && viewOffsetMs >= durationMs * WATCHED_SHARE) return 0;
  return Math.max(0, Math.round(viewOffsetMs / 1000));
}

/** Stash's resume point is "there already" within this (the issue's ± 5 s). */
export const RESUME_TOLERANCE_S = 5;

export type ProgressDecision =
  | { write: true; resumeSeconds: number; why: string }
  | { write: false; reason: "stale" | "agrees"; why: string };

/**
 * What a stop part-way does to Stash's resume point: a stop older than Stash's last play (the
 * viewing went on to the end since) changes nothing; a point Stash has already (± 5 s) is not
 * written again; otherwise it is set.
 */
export function decideProgress(
  event: { at: number; viewOffsetMs: number; durationMs?: number },
  stash: { resume_time?: number | null; last_played_at?: string | null },
): ProgressDecision {
  const lastPlayed = stash.last_played_at ? Date.parse(stash.last_played_at) : Number.NaN;
  if (Number.isFinite(lastPlayed) && event.at < lastPlayed - SAME_PLAY_MS)
    return { write: false, reason: "stale", why: "stopped before the scene's last play in Stash" };
  const seconds = resumeSeconds(event.viewOffsetMs, event.durationMs);
  if (Math.abs((stash.resume_time ?? 0) - seconds) <= RESUME_TOLERANCE_S)
    return {
      write: false,
      reason: "agrees",
      why: Math.round(stash.resume_time ?? 0)
        ? `Stash's resume point is ${Math.round(stash.resume_time ?? 0)} s already`
        : "Stash has no resume point already",
    };
  return {
    write: true,
    resumeSeconds: seconds,
    why: seconds ? `resume point ${seconds} s` : "watched: resume point cleared",
  };
}

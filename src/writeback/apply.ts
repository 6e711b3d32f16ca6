/**
 * The applier: writes one PlexEvent to its scene's Stash, once, and says what happened. The
 * write-back worker (worker.ts) claims events from the queue (events.ts), calls `applyEvent` and
 * records the outcome: done (Stash holds it now, written or already there), ignored (not ours to
 * write: a user not allowed, the echo of our own push, a stop older than the last play), a
 * transient failure (Stash down: tried again) or a permanent one (no such scene).
 *
 * Every event first reads the scene's plays, resume point and rating (one query), then writes
 * only what differs. That one read is what makes a retry after a crash safe: a play already in
 * Stash's history at Plex's time (± 2 s) is not added again, so `kill -9` between Stash's write
 * and the queue's "done" writes nothing twice. Plays and resume points move neither Stash's
 * updated_at nor a hook; a rating does (it comes back through the poller as a Stash change: the
 * push then finds Plex showing it already and sends nothing, see sync/push.ts rateAsUser).
 */
import { DEFAULT_INSTANCE_ID, sceneIdOf, type Ref } from "../domain/ref.ts";
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import { isStashError } from "../stash/errors.ts";
import type { EditState } from "../sync/edit-state.ts";
import { decideProgress, decideRating, hasPlayAt, isAllowedAccount } from "./rules.ts";
import type { PlexEvent } from "./types.ts";

/** Why an event changed nothing in Stash by rule (a metric label). */
export type IgnoreReason = "user" | "echo" | "stale" | "kept" | "not_scene";
export const IGNORE_REASONS: readonly IgnoreReason[] = ["user", "echo", "stale", "kept", "not_scene"];

export type ApplyOutcome =
  /** Stash holds what the event says: `wrote` false when it did already (a replay, an agreeing rating). */
  | { status: "done"; wrote: boolean; note: string }
  | { status: "ignored"; reason: IgnoreReason; why: string }
  /** Try again later; `stashDown`: the Stash did not answer (the worker may wait for it rather than count an attempt). */
  | { status: "transient"; error: string; stashDown: boolean }
  | { status: "permanent"; error: string };

/** The Stash calls write-back makes. */
export type WritebackStash = Pick<StashClient, "sceneActivity" | "addPlay" | "saveActivity" | "setRating">;

export interface ApplierDeps {
  /** Each Stash instance's client by instance id (undefined: not configured). */
  stashOf: (instance: string) => WritebackStash | undefined;
  /** Plex star ratings as last known per item (the loop guard shared with the push). */
  ratings: Pick<EditState, "starRating" | "rememberStarRating">;
  /** writeback.users: Plex account ids or names whose viewing counts (empty: the server owner). */
  users: readonly string[];
  log: Logger;
  /** Told of every outcome (metrics). */
  observe?: (event: PlexEvent, outcome: ApplyOutcome) => void;
}

/** A moment as the dashboard writes it ("2026-12-02 08:11:45 UTC"): the notes are shown there. */
const when = (ms: number) => `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;

/**
 * Where an event's time played stands (its queue row). Stash's sceneSaveActivity ADDS its
 * playDuration to the scene's play_duration, so the applier sends it only when `playedSent` is
 * false, and calls `markPlayedSent` (a durable write to the row) BEFORE the Stash call: a crash
 * or a failed call after it loses that time played rather than counting it twice. Without a
 * ledger (a direct call) the time played is sent.
 */
export interface PlayedLedger {
  playedSent: boolean;
  markPlayedSent: () => void;
}

/** An event's time played to hand to Stash now (seconds), marking it handed; undefined: none. */
function playedToSend(event: PlexEvent, ledger: PlayedLedger | undefined): number | undefined {
  if (event.kind === "rate" || !event.playedMs || event.playedMs < 1 || ledger?.playedSent) return undefined;
  ledger?.markPlayedSent();
  return Math.round(event.playedMs) / 1000;
}
/** The time played in a note, to the second ("; 4 min 7 s played added"); under a second says nothing. */
export function playedNote(seconds: number | undefined): string {
  const s = seconds === undefined ? 0 : Math.round(seconds);
  if (s < 1) return "";
  const text = s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  return `; ${text} played added`;
}

export function createApplier(deps: ApplierDeps) {
  const { log } = deps;

  async function apply(event: PlexEvent, ledger?: PlayedLedger): Promise<ApplyOutcome> {
    if (!isAllowedAccount(event.account, deps.users)) {
      // One line per ignored event, naming the account (never a token), so the owner sees why.
      log.info("write-back ignored an event of a Plex user who is not allowed (writeback.users)", {
        account: event.account.name ?? `#${event.account.id}`,
        accountId: event.account.id,
        kind: event.kind,
        ratingKey: event.ratingKey,
      });
      const who = event.account.name ? `"${event.account.name}" (#${event.account.id})` : `#${event.account.id}`;
      return { status: "ignored", reason: "user", why: `Plex user ${who} is not in writeback.users` };
    }
    const sceneId = sceneIdOf(event.ref);
    if (!sceneId) return { status: "ignored", reason: "not_scene", why: `a ${event.ref.kind} is not a scene` };
    const stash = deps.stashOf(event.ref.instance);
    if (!stash) return { status: "permanent", error: `no Stash instance "${event.ref.instance}" is configured` };
    try {
      const scene = await stash.sceneActivity(sceneId);
      if (!scene) return { status: "permanent", error: `scene ${sceneId} is not in Stash${instanceNote(event.ref)}` };
      switch (event.kind) {
        case "play": {
          const known = hasPlayAt(scene.play_history, event.at);
          const count = known ? undefined : await stash.addPlay(sceneId, event.at);
          // Finishing clears the resume point (Plex clears its own at the end too).
          const clear = Boolean(scene.resume_time);
          const played = playedToSend(event, ledger);
          if (clear || played !== undefined) await stash.saveActivity(sceneId, clear ? 0 : null, played);
          const what = known
            ? `the play at ${when(event.at)} is in Stash's history already`
            : `play added (played ${count === 1 ? "1 time" : `${count} times`} in all), at ${when(event.at)}`;
          return done(
            !known || clear || played !== undefined,
            `${what}${clear ? "; resume point cleared" : ""}${playedNote(played)}`,
          );
        }
        case "progress": {
          const d = decideProgress(event, scene);
          // The time played counts even when the resume point needs no write (±5 s, or stale).
          const played = playedToSend(event, ledger);
          if (!d.write && played === undefined)
            return d.reason === "stale" ? ignored("stale", d.why) : done(false, d.why);
          await stash.saveActivity(sceneId, d.write ? d.resumeSeconds : null, played);
          return done(true, `${d.why}${playedNote(played)}`);
        }
        case "rate": {
          const d = decideRating(event.rating, scene.rating100, deps.ratings.starRating(event.ratingKey), event.at);
          if (!d.write && d.reason === "echo") return ignored("echo", d.why);
          if (d.write) await stash.setRating(sceneId, d.rating100);
          // Plex shows this now, set by its user: the push will not send it back (sync/push.ts).
          deps.ratings.rememberStarRating(event.ratingKey, { value: event.rating, by: "plex", at: event.at });
          if (!d.write) return d.reason === "kept" ? ignored("kept", d.why) : done(false, d.why);
          return done(true, d.why);
        }
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      // Any Stash failure may pass (a restart, a proxy): tried again, as the push side does.
      return { status: "transient", error: message, stashDown: isStashError(err, "unavailable") };
    }
  }

  return {
    /** Writes one event; `ledger`: its row's record of the time played handed to Stash. */
    async applyEvent(event: PlexEvent, ledger?: PlayedLedger): Promise<ApplyOutcome> {
      const outcome = await apply(event, ledger);
      deps.observe?.(event, outcome);
      return outcome;
    },
  };
}
export type Applier = ReturnType<typeof createApplier>;

const done = (wrote: boolean, note: string): ApplyOutcome => ({ status: "done", wrote, note });
const ignored = (reason: IgnoreReason, why: string): ApplyOutcome => ({ status: "ignored", reason, why });
const instanceNote = (ref: Ref) => (ref.instance === DEFAULT_INSTANCE_ID ? "" : ` (instance ${ref.instance})`);

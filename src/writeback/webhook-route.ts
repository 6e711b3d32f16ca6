/**
 * `POST /hooks/plex?token=…`: Plex Pass webhooks (Settings → Webhooks). Plex can send nothing
 * but the URL, so the token is a query parameter (its own setting, writeback.webhookToken,
 * compared in constant time; the request log never shows a query). In order, before the body is
 * used: write-back on, the token, multipart/form-data, the body's size (413 from
 * Content-Length, or while reading: a huge part is never read whole), the multipart itself, the
 * `payload` part (size, JSON, the shape below). Anything wrong is a 4xx naming the problem and
 * stores nothing.
 *
 * What is stored (events.ts, before the 200): media.scrobble → a play; media.stop and
 * media.pause → progress (the resume point; past 90 % → finished, cleared); media.rate → a rating.
 * Everything else (media.play/resume, library.*, another agent's item, a show or season) is
 * answered 200 "ignored" and stores nothing: Plex does not retry, and a 4xx would only fill its
 * log. The event's key (events.ts eventKeys) is what every other source makes of the same event.
 * media.play/resume start the time played (played.ts) that the next pause, stop or scrobble of
 * the same item, account and player carries.
 */
import { timingSafeEqual } from "node:crypto";
import { type Static, Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { InstanceName } from "../domain/ref.ts";
import { HttpError } from "../http.ts";
import { readBytes, tooLarge } from "../json-body.ts";
import { decode } from "../schema/decode.ts";
import { eventKeys, type EventQueue, sceneRefOfGuid } from "./events.ts";
import type { PlayingClock } from "./played.ts";
import type { PlexEvent } from "./types.ts";

/** The whole body (the payload and Plex's thumbnail JPEG); Plex's thumbs are well below this. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The payload part: an item's metadata with every tag is a few KiB. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
/** Past this share of the item, a stop is a finished viewing (PMS marks it watched at 90 %). */
const FINISHED_AT = 0.9;
/** The scrobble's lastViewedAt is trusted only this close to now (an older one is the previous viewing's). */
const FRESH_VIEW_S = 15 * 60;

const Id = Type.Union([Type.Integer(), Type.String({ minLength: 1, maxLength: 64 })]);
const Seconds = Type.Number({ minimum: 0 });
/** The fields we read; Plex sends many more (additional properties are allowed). */
export const WebhookPayload = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 64 }),
    user: Type.Optional(Type.Boolean()),
    owner: Type.Optional(Type.Boolean()),
    rating: Type.Optional(Type.Number({ minimum: -1, maximum: 10 })),
    Account: Type.Optional(
      Type.Object({ id: Id, title: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: true }),
    ),
    Player: Type.Optional(
      Type.Object({ uuid: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: true }),
    ),
    Metadata: Type.Optional(
      Type.Object(
        {
          ratingKey: Id,
          guid: Type.Optional(Type.String({ maxLength: 500 })),
          type: Type.Optional(Type.String({ maxLength: 32 })),
          viewOffset: Type.Optional(Seconds),
          duration: Type.Optional(Seconds),
          lastViewedAt: Type.Optional(Seconds),
          userRating: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
          lastRatedAt: Type.Optional(Seconds),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type WebhookPayload = Static<typeof WebhookPayload>;

const WRITTEN = new Set(["media.scrobble", "media.stop", "media.pause", "media.rate"]);
/** The Plex item types whose watching we write (a scene as a movie, or as an episode). */
const ITEM_TYPES = new Set(["movie", "episode"]);

/** What a webhook means (pure): the event to store, or why there is none. */
export function eventOfWebhook(
  p: WebhookPayload,
  instances: readonly InstanceName[],
  nowMs: number,
): { event: PlexEvent } | { ignored: string } {
  if (!WRITTEN.has(p.event)) return { ignored: `${p.event.slice(0, 64)} changes nothing in Stash` };
  const m = p.Metadata;
  if (!m || !p.Account) throw new HttpError(400, "bad_payload", `payload: ${p.event} without Metadata or Account`);
  if (m.type && !ITEM_TYPES.has(m.type)) return { ignored: `a ${m.type.slice(0, 32)} is not something we write back` };
  const ref = sceneRefOfGuid(m.guid, instances);
  if (!ref) return { ignored: "the item is not one of ours (its GUID names another agent)" };
  const ratingKey = String(m.ratingKey);
  const account = { id: String(p.Account.id), ...(p.Account.title ? { name: p.Account.title } : {}) };
  const nowS = Math.floor(nowMs / 1000);
  const base = { source: "webhook" as const, ref, ratingKey, account };
  if (p.event === "media.scrobble") {
    const viewedAt =
      m.lastViewedAt !== undefined && Math.abs(nowS - m.lastViewedAt) <= FRESH_VIEW_S ? m.lastViewedAt : nowS;
    return {
      event: { ...base, kind: "play", key: eventKeys.play(ref, ratingKey, account.id, viewedAt), at: viewedAt * 1000 },
    };
  }
  if (p.event === "media.rate") {
    const raw = p.rating ?? m.userRating;
    const rating = raw === undefined || raw < 0 ? null : raw;
    return {
      event: {
        ...base,
        kind: "rate",
        rating,
        key: eventKeys.rate(ref, ratingKey, account.id, rating, m.lastRatedAt),
        at: (m.lastRatedAt ?? nowS) * 1000,
      },
    };
  }
  // media.stop / media.pause: where the viewer is; past 90 %, a finished viewing clears the resume point.
  const offset = m.viewOffset ?? 0;
  const finished = m.duration !== undefined && m.duration > 0 && offset >= m.duration * FINISHED_AT;
  const viewedAt = finished ? (m.lastViewedAt ?? nowS) : undefined;
  return {
    event: {
      ...base,
      kind: "progress",
      viewOffsetMs: finished ? 0 : Math.round(offset),
      ...(m.duration ? { durationMs: m.duration } : {}),
      key: eventKeys.progress(ref, ratingKey, account.id, finished ? 0 : offset, viewedAt),
      at: nowMs,
    },
  };
}

/**
 * The time played this webhook ends (pause, stop, scrobble), from the open stretch of the same
 * item, account and player (play, resume, scrobble open one; a scrobble fires while playing on).
 * Only for our scenes' items; undefined when nothing was open (a replay: its first delivery
 * closed it).
 */
export function clockWebhook(
  clock: PlayingClock,
  p: WebhookPayload,
  instances: readonly InstanceName[],
  nowMs: number,
): number | undefined {
  const m = p.Metadata;
  if (!m || !p.Account || (m.type && !ITEM_TYPES.has(m.type)) || !sceneRefOfGuid(m.guid, instances)) return undefined;
  const key = `${m.ratingKey}:${p.Account.id}:${p.Player?.uuid ?? ""}`;
  switch (p.event) {
    case "media.play":
    case "media.resume":
      clock.start(key, nowMs, m.viewOffset);
      return undefined;
    case "media.pause":
    case "media.stop":
      return clock.stop(key, nowMs, m.viewOffset);
    case "media.scrobble": {
      const played = clock.stop(key, nowMs, m.viewOffset);
      clock.start(key, nowMs, m.viewOffset);
      return played;
    }
  }
  return undefined;
}

const tokenMatches = (expected: string, given: string | null) => {
  if (!expected || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** The `payload` part, checked: multipart, sizes, JSON, shape. */
export async function readPayload(request: Request): Promise<WebhookPayload> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;.*boundary=/i.test(type))
    throw new HttpError(
      400,
      "not_multipart",
      "send Plex's webhook as multipart/form-data with a boundary (a part named payload holding JSON)",
    );
  const bytes = await readBytes(request, MAX_BODY_BYTES);
  let form: Awaited<ReturnType<Response["formData"]>>;
  try {
    form = await new Response(bytes, { headers: { "content-type": type } }).formData();
  } catch {
    throw new HttpError(400, "bad_multipart", "the body is not valid multipart/form-data");
  }
  const part = form.get("payload");
  if (part === null) throw new HttpError(400, "no_payload", "the multipart body has no part named payload");
  const text = typeof part === "string" ? part : await part.text();
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw tooLarge(MAX_PAYLOAD_BYTES, "the payload part");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError(400, "bad_payload", "payload: not valid JSON");
  }
  const result = decode(WebhookPayload, json);
  if (!result.ok) throw new HttpError(400, "bad_payload", `payload: ${result.problem.slice(0, 160)}`);
  return result.value;
}

export interface PlexWebhookDeps {
  /** writeback.enabled: false answers 404 saying how to turn it on. */
  enabled: boolean;
  token: string;
  instances: readonly InstanceName[];
  events: EventQueue;
  /** Told after a new event is stored (wakes the worker). */
  onRecorded: (event: PlexEvent) => void;
  /** The open stretches of play (time played); absent: none measured. */
  clock?: PlayingClock;
  now?: () => number;
}

export const plexWebhookRoutes = (deps: PlexWebhookDeps) =>
  new Elysia({ name: "plex-webhook" }).post(
    "/hooks/plex",
    async ({ request }) => {
      if (!deps.enabled)
        throw new HttpError(
          404,
          "writeback_off",
          "write-back is off: set WRITEBACK_ENABLED=true to take Plex's webhooks",
        );
      if (!deps.token)
        throw new HttpError(
          404,
          "webhook_off",
          "the Plex webhook is off: set WRITEBACK_WEBHOOK_TOKEN and add <this service>/hooks/plex?token=<it> in Plex",
        );
      if (!tokenMatches(deps.token, new URL(request.url).searchParams.get("token")))
        throw new HttpError(401, "bad_token", "the Plex webhook needs its token as ?token=<token> in the URL");
      const payload = await readPayload(request);
      const nowMs = (deps.now ?? Date.now)();
      const meaning = eventOfWebhook(payload, deps.instances, nowMs);
      const played = deps.clock && clockWebhook(deps.clock, payload, deps.instances, nowMs);
      if ("ignored" in meaning) return { recorded: 0, ignored: meaning.ignored };
      if (played !== undefined && meaning.event.kind !== "rate") meaning.event.playedMs = played;
      // Stored before the answer: Plex does not retry, so a 200 must mean "kept".
      const fresh = deps.events.record(meaning.event);
      if (fresh) deps.onRecorded(meaning.event);
      return { recorded: fresh ? 1 : 0, key: meaning.event.key, ...(fresh ? {} : { duplicate: true }) };
    },
    // The body is read by the handler itself (size-limited, after the token check): no parser runs first.
    { parse: () => ({}) },
  );

/**
 * Without Plex Pass: PMS's live notification stream (a websocket, the token in its URL) tells
 * of every playing session's state (playing, paused, stopped) and position, but not who plays
 * it. /status/sessions does, while the session lasts (a stopped one is gone at once), so a
 * session is looked up when first seen and remembered. Its user there is the plex.tv user id;
 * write-back keys on PMS's own account number (webhooks and the history use it: 1 is the
 * owner), so /accounts maps one to the other (a shared user's two ids are equal; the owner is
 * found by name).
 *
 * What it records: progress when a session pauses or stops part-way; when a session that
 * reached 90 % stops, a play dated by the history entry PMS wrote for it (read back, so the key
 * is the one the catch-up and the webhook make) and a finished progress (resume point cleared).
 *
 * Time played: between two notifications of a session while it plays, the position's progress
 * capped by the time between them (played.ts); each event carries what was played since the
 * session's previous event. A finished viewing's time is split where it passed 90 % (where PMS
 * fires media.scrobble): the play carries the part before, the finished progress the rest, so
 * with webhooks on too the two sources' events coalesce (events.ts) on the same shares.
 *
 * The stream drops whenever PMS restarts or the network does: it reconnects with a growing
 * delay (1 s doubling to 30 s, like the push side's breaker probes), and each reconnect asks the
 * catch-up to read the history, so a viewing that ended while the stream was down still arrives.
 */
import type { InstanceName } from "../domain/ref.ts";
import type { Logger } from "../log.ts";
import { eventKeys, type EventQueue, sceneRefOfGuid } from "./events.ts";
import { playedBetween } from "./played.ts";
import { STREAM_SPELLINGS, type PmsWatch } from "./pms-watch.ts";
import type { PlexEvent, StreamState } from "./types.ts";

const FINISHED_AT = 0.9;
/** Reconnect delays: doubling from the first to the cap. */
const RETRY_FIRST_MS = 1_000;
const RETRY_CAP_MS = 30_000;
/** How many sessions are remembered at most (a client that never says stopped). */
const MAX_SESSIONS = 500;

interface Notification {
  sessionKey?: string | number;
  ratingKey?: string | number;
  viewOffset?: number;
  state?: string;
}

interface Tracked {
  ratingKey: string;
  startedAtS: number;
  maxOffsetMs: number;
  durationMs?: number;
  guid?: string;
  /** PMS's account number and the name, once /status/sessions told. */
  account?: { id: string; name?: string };
  lastState?: string;
  /** When the last notification arrived, and the position it told. */
  lastAtMs?: number;
  lastOffsetMs?: number;
  /** Time played in all, the part events carried already, and the total when it passed 90 %. */
  playedMs: number;
  reportedMs: number;
  finishedAtPlayedMs?: number;
}

export interface NotificationsDeps {
  pms: PmsWatch;
  events: EventQueue;
  instances: readonly InstanceName[];
  log: Logger;
  /** Told after new events are stored (wakes the worker). */
  onRecorded: (events: PlexEvent[]) => void;
  /** Told after each (re)connect: the catch-up reads what the stream missed. */
  onConnected?: () => void;
  now?: () => number;
}

/** The time played an event carries (none under a second: nothing worth a Stash call). */
const played = (ms: number) => (ms >= 1000 ? { playedMs: Math.round(ms) } : {});

export function createNotifications(deps: NotificationsDeps) {
  const { pms, events, log } = deps;
  const now = deps.now ?? Date.now;
  const sessions = new Map<string, Tracked>();
  let accounts: Map<string, string> | undefined;
  let socket: WebSocket | undefined;
  let stopped = true;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  /** Which of the stream's path spellings to connect to (see PmsWatch.notificationsUrls). */
  let spelling = 0;
  /** Spellings not yet tried in this round: a wrong one is not an outage, the next is tried at once. */
  let untried = STREAM_SPELLINGS - 1;
  let lastError: string | null = null;
  let connectedAt: number | null = null;
  /** When the stream was last lost (null while connected, or before it first tried). */
  let downSince: number | null = null;
  /** Frames are handled one after another (each may read PMS): a stop never overtakes its pause. */
  let chain: Promise<void> = Promise.resolve();

  /** PMS's account number of a /status/sessions user (plex.tv id or name). */
  async function accountOf(user: { id?: string; title?: string } | undefined) {
    if (!user) return undefined;
    if (!accounts) accounts = await pms.accounts().catch(() => undefined);
    const byId = user.id !== undefined && accounts?.has(user.id) ? user.id : undefined;
    const byName = [...(accounts ?? [])].find(([, name]) => name && name === user.title)?.[0];
    const id = byId ?? byName;
    if (id) return { id, name: accounts?.get(id) || user.title };
    // Not in /accounts (a user added since): the list is read again next time.
    accounts = undefined;
    return undefined;
  }

  /** Learns who plays each session PMS lists now (and the item's GUID and length). */
  async function lookUpSessions() {
    for (const s of await pms.sessions()) {
      const t = sessions.get(s.sessionKey);
      if (!t || t.account) continue;
      t.guid = s.guid;
      t.durationMs = s.durationMs ?? t.durationMs;
      t.account = await accountOf(s.user);
    }
  }

  /** The history entry PMS wrote for a finished session (its viewedAt and account). */
  async function historyOf(t: Tracked) {
    const { entries } = await pms.history({
      ratingKey: t.ratingKey,
      accountId: t.account?.id,
      sinceS: t.startedAtS - 5,
      newestFirst: true,
      size: 1,
    });
    return entries[0];
  }

  async function handle(n: Notification, atMs: number) {
    if (n.sessionKey === undefined || n.ratingKey === undefined) return;
    const key = String(n.sessionKey);
    let t = sessions.get(key);
    if (!t) {
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      t = {
        ratingKey: String(n.ratingKey),
        startedAtS: Math.floor(atMs / 1000),
        maxOffsetMs: 0,
        playedMs: 0,
        reportedMs: 0,
      };
      sessions.set(key, t);
    }
    // Time played since the last notification, when it was playing then.
    if (t.lastAtMs !== undefined && (t.lastState === "playing" || t.lastState === "buffering"))
      t.playedMs += playedBetween({ atMs: t.lastAtMs, offsetMs: t.lastOffsetMs }, { atMs, offsetMs: n.viewOffset });
    t.lastAtMs = atMs;
    t.lastOffsetMs = n.viewOffset ?? t.lastOffsetMs;
    t.maxOffsetMs = Math.max(t.maxOffsetMs, n.viewOffset ?? 0);
    if (!t.account && n.state !== "stopped") await lookUpSessions().catch(() => {});
    if (t.finishedAtPlayedMs === undefined && t.durationMs && t.maxOffsetMs >= t.durationMs * FINISHED_AT)
      t.finishedAtPlayedMs = t.playedMs;
    const state = n.state ?? "";
    const changed = state !== t.lastState;
    t.lastState = state;
    if (state === "stopped") sessions.delete(key);
    if (!changed || (state !== "paused" && state !== "stopped")) return;
    if (!t.guid || !t.durationMs) {
      const [item] = await pms.items([t.ratingKey]);
      t.guid ??= item?.guid;
      t.durationMs ??= item?.durationMs;
    }
    const ref = sceneRefOfGuid(t.guid, deps.instances);
    if (!ref) return; // another agent's item
    // Finished: PMS wrote a history entry for it (it does past 90 %). Looked up when the session
    // got that far, or when the item's length is unknown (then the entry alone decides).
    const mayBeFinished =
      state === "stopped" && (t.durationMs === undefined || t.maxOffsetMs >= t.durationMs * FINISHED_AT);
    const entry = mayBeFinished ? await historyOf(t).catch(() => undefined) : undefined;
    const found: PlexEvent[] = [];
    if (mayBeFinished && (entry || t.durationMs !== undefined)) {
      const account = t.account ?? (entry ? { id: entry.accountId } : undefined);
      if (!account)
        return log.warn("write-back: a finished viewing whose Plex user is unknown was left to the catch-up", {
          ratingKey: t.ratingKey,
        });
      const viewedAt = entry?.viewedAt ?? Math.floor(now() / 1000);
      const base = { source: "notification" as const, ref, ratingKey: t.ratingKey, account };
      // The play carries the time played up to 90 % (the scrobble), the finished progress the rest.
      const split = Math.max(t.reportedMs, t.finishedAtPlayedMs ?? t.playedMs);
      found.push(
        {
          ...base,
          kind: "play",
          ...played(split - t.reportedMs),
          key: eventKeys.play(ref, t.ratingKey, account.id, viewedAt),
          at: viewedAt * 1000,
        },
        {
          ...base,
          kind: "progress",
          viewOffsetMs: 0,
          ...(t.durationMs ? { durationMs: t.durationMs } : {}),
          ...played(t.playedMs - split),
          key: eventKeys.progress(ref, t.ratingKey, account.id, 0, viewedAt),
          at: now(),
        },
      );
      t.reportedMs = t.playedMs;
    } else if (t.account) {
      const offset = Math.round(n.viewOffset ?? t.maxOffsetMs);
      found.push({
        source: "notification",
        ref,
        ratingKey: t.ratingKey,
        account: t.account,
        kind: "progress",
        viewOffsetMs: offset,
        ...(t.durationMs ? { durationMs: t.durationMs } : {}),
        ...played(t.playedMs - t.reportedMs),
        key: eventKeys.progress(ref, t.ratingKey, t.account.id, offset),
        at: now(),
      });
      t.reportedMs = t.playedMs;
    }
    const fresh = events.recordAll(found);
    if (fresh.length) deps.onRecorded(fresh);
  }

  function onFrame(data: unknown) {
    let parsed: { NotificationContainer?: { type?: string; PlaySessionStateNotification?: Notification[] } };
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return; // not JSON: nothing of ours
    }
    const c = parsed.NotificationContainer;
    if (c?.type !== "playing" || !Array.isArray(c.PlaySessionStateNotification)) return;
    const atMs = now(); // the frame's arrival (its handling may wait for the one before)
    for (const n of c.PlaySessionStateNotification)
      chain = chain
        .then(() => handle(n, atMs))
        .catch((err: Error) => log.warn("write-back: a play notification was not handled", { error: err.message }));
  }

  function connect() {
    if (stopped) return;
    const urls = pms.notificationsUrls();
    let ws: WebSocket;
    try {
      ws = new WebSocket(urls[spelling % urls.length]!);
    } catch {
      return retry("the websocket could not be opened"); // its message would carry the URL, token and all
    }
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      untried = STREAM_SPELLINGS - 1;
      if (failures) log.info("write-back: PMS's notification stream is back", { after: failures });
      failures = 0;
      lastError = null;
      downSince = null;
      connectedAt = now();
      deps.onConnected?.();
    };
    ws.onmessage = (m) => onFrame(m.data);
    ws.onclose = (e) => {
      if (socket !== ws) return;
      socket = undefined;
      connectedAt = null;
      // Never opened (a 404 to the upgrade, or PMS down): the next try uses the path's other
      // spelling, at once while some are untried. One that opened is kept: a later drop is an
      // outage, not the wrong path.
      if (!opened) {
        spelling++;
        if (untried > 0) {
          untried--;
          retryTimer = setTimeout(connect, 0);
          return;
        }
        untried = STREAM_SPELLINGS - 1;
      }
      retry(e.reason || `closed (${e.code})`);
    };
    ws.onerror = () => {}; // close follows
  }

  function retry(why: string) {
    if (stopped) return;
    failures++;
    downSince ??= now();
    lastError = `PMS's notification stream: ${why.slice(0, 200)}`;
    if (failures === 1)
      log.warn("write-back: PMS's notification stream dropped; reconnecting", { error: why.slice(0, 200) });
    const delay = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** Math.min(10, failures - 1));
    retryTimer = setTimeout(connect, delay);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      connect();
    },
    async stop() {
      stopped = true;
      connectedAt = null;
      downSince = null;
      clearTimeout(retryTimer);
      socket?.close();
      socket = undefined;
      await chain;
    },
    /**
     * For the dashboard: off (not started), connecting (the first try), connected (since when)
     * or reconnecting (since when it was lost, failed tries in a row, the last problem).
     */
    status: () => ({
      state: (stopped
        ? "off"
        : connectedAt !== null
          ? "connected"
          : downSince === null
            ? "connecting"
            : "reconnecting") as StreamState,
      connected: connectedAt !== null,
      connectedAt,
      downSince,
      failures,
      lastError,
      sessions: sessions.size,
    }),
    /** Waits until every frame received so far is handled (tests). */
    idle: () => chain,
  };
}
export type Notifications = ReturnType<typeof createNotifications>;

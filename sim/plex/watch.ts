/**
 * What PMS tells about watching, simulated: sessions (/status/sessions), the live notification
 * stream (websocket /:/websockets/notifications), the watch history
 * (/status/sessions/history/all), the server's accounts (/accounts), and Plex Pass webhooks.
 * Kept apart from server.ts (the library and the provider calls); the server hands it every
 * (authenticated) request first.
 *
 * How the real ones behave, from what was read (issue 21):
 * - Webhooks, https://support.plex.tv/articles/115002267687-webhooks/ (as captured in
 *   api-evangelist/plex asyncapi/plex-webhooks.yml): an HTTP POST, multipart/form-data, the JSON in
 *   a part named `payload`; some events (media.play, media.rate, library.*) add a JPEG `thumb`
 *   part. No signing, no retries: a delivery to a receiver that is down is lost. Events
 *   media.play/pause/resume/stop/scrobble/rate. Top level: event, user, owner, Account{id,
 *   thumb, title}, Server{title, uuid}, Player{local, publicAddress, title, uuid}, Metadata (the
 *   item as the library API answers it: ratingKey, key, guid, type, librarySectionType,
 *   viewOffset, lastViewedAt, viewCount, userRating, lastRatedAt, duration, Guid[]).
 *   Samples: tacoded/plex-webhook sample-payload.md (Account.id 1 for the owner: PMS's own
 *   account numbering), Notifiarr/notifiarr pkg/plex/webhook.go (media.rate: a top-level `rating`).
 *   media.scrobble fires once when playback passes 90 %; media.stop still follows at the stop.
 *   Receivers report the same event delivered twice now and then: `duplicates` copies that.
 * - Notifications: python-plexapi's AlertListener (alert.py), python-plexwebsocket (Home
 *   Assistant), Tautulli and plex-api's (TS) alert.ts all connect to
 *   ws://<pms>/:/websockets/notifications?X-Plex-Token=… (../shared/plex/real-pms-evidence.md §4).
 *   pms-openapi.json spells it /:/websocket/notifications (singular), which no working client
 *   uses: no evidence a real PMS answers it, so by default this one does not (a 404, the
 *   evidence's advice); `streamPaths` can add it. /:/eventsource/notifications (SSE) is known
 *   but answers 400 here (no SSE is simulated).
 *   Frames are {"NotificationContainer": {"type": "playing", "size": 1,
 *   "PlaySessionStateNotification": [{sessionKey, clientIdentifier, guid, ratingKey, url, key,
 *   viewOffset, playQueueItemID, state: playing|paused|buffering|stopped}]}}: no account in it.
 * - /status/sessions (pms-openapi.json statusGetSlash): each playing item's Metadata with
 *   sessionKey, viewOffset, User{id, title, thumb} (the plex.tv user id: the owner's is NOT 1),
 *   Player{machineIdentifier, state, local, title}, Session{id, location}. A stopped session is
 *   gone from the list at once, so a client learns who played it while it plays.
 * - /status/sessions/history/all (statusGetHistoryAll): Metadata[] of {historyKey, key,
 *   ratingKey, librarySectionID, title, type, thumb, viewedAt (s), accountID (PMS's numbering:
 *   1 the owner), deviceID}; filters accountID, metadataItemID, librarySectionID and viewedAt;
 *   sort=viewedAt[:desc|:asc]; paged by X-Plex-Container-Start/Size with offset and totalSize
 *   in the container.
 * - The viewedAt filter is a media query written into the raw URL: `viewedAt>=N`, which any
 *   query parser reads as the parameter `viewedAt>` with the value N. That is what python-plexapi
 *   (server.py PlexServer.history(): `args['viewedAt>'] = int(mindate.timestamp())`) and its
 *   TypeScript port send against real servers every day (the `>` raw or as %3E: the same name to
 *   a query parser, as stash2plex's URLSearchParams sends it), and what
 *   pms-openapi.json means by "typically of the form `viewedAt>=12456789`". So `viewedAt>` N is
 *   viewedAt ≥ N (LIKELY: python-plexapi calls it the "min datetime"; no server answer read shows
 *   the same second kept or dropped), `viewedAt<` N is ≤ N, and `viewedAt>>`/`viewedAt<<` (raw
 *   `>>=`/`<<=`, python-plexapi's "is after"/"is before" filters) are strict.
 *   UNKNOWN: what a real PMS does with a value that is not a number (as `viewedAt>` with the
 *   value `=N`, the raw `viewedAt%3E==N` stash2plex once sent): no evidence says whether it is
 *   ignored or an error. Here it is ignored, the whole history answered, as a server does with a
 *   filter it cannot parse: the failure that hides best (nothing errs, a catch-up re-reads and
 *   replays everything), so a test catches a wrong spelling by what it replays.
 * - /accounts: Account[] of {id, key, name}; 0 is the system's, 1 the owner.
 * - PUT /:/rate (server.ts) rates as the token's user (the owner) and fires media.rate.
 * - History is the server's own database: it survives our outages and keeps growing while
 *   stash2plex is down; PMS's own downtime (stop()) keeps it too.
 */
import type { PmsSim, SimItem } from "./server.ts";

export interface SimAccount {
  /** PMS's own number (history accountID, webhook Account.id). */
  id: number;
  name: string;
  /** The plex.tv user id (/status/sessions User.id). */
  plexTvId: string;
}

export interface HistoryEntry {
  id: number;
  ratingKey: string;
  accountId: number;
  /** Seconds since the epoch. */
  viewedAt: number;
  deviceId: number;
}

interface Session {
  sessionKey: string;
  ratingKey: string;
  accountId: number;
  offsetMs: number;
  durationMs: number;
  state: "playing" | "paused" | "stopped";
  player: { uuid: string; title: string; local: boolean };
  scrobbled: boolean;
}

/** One account's state of an item (PMS keeps it per user). */
interface ViewState {
  viewCount: number;
  lastViewedAt?: number;
  viewOffset?: number;
  userRating?: number;
  lastRatedAt?: number;
}

export interface Delivery {
  url: string;
  event: string;
  status: number;
}

/** A tiny JPEG (SOI … EOI) for the `thumb` part. */
const JPEG = new Uint8Array([
  0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9,
]);
/** Events whose webhook carries the item's thumbnail as a second part. */
const WITH_THUMB = new Set(["media.play", "media.rate"]);
/** PMS marks an item watched once playback passes this share of it. */
export const WATCHED_AT = 0.9;

export class PlexWatch {
  accounts: SimAccount[] = [{ id: 1, name: "owner", plexTvId: "8675309" }];
  /** The webhook URLs PMS posts to (Plex Pass: Settings → Webhooks). */
  webhooks: string[] = [];
  /**
   * Which spellings of the notification stream's path this PMS answers: the plural, which every
   * working client uses, and the SSE one. The API description's singular is left out (no
   * evidence a real PMS answers it); a test adds it. A path not listed is a 404, as PMS answers
   * an unknown path.
   */
  streamPaths = new Set(["/:/websockets/notifications", "/:/eventsource/notifications"]);
  /** How many times each webhook is delivered (Plex sometimes delivers one twice). */
  duplicates = 1;
  history: HistoryEntry[] = [];
  deliveries: Delivery[] = [];
  readonly sessions = new Map<string, Session>();
  private state = new Map<string, ViewState>();
  private nextSession = 1;
  private nextHistory = 1;
  private sending = new Set<Promise<void>>();
  private last: Promise<void> = Promise.resolve();

  constructor(readonly pms: PmsSim) {}

  // ---- what a test drives ----

  /** An account starts playing an item; answers the session key. */
  play(ratingKey: string, options: { accountId?: number; offsetMs?: number; durationMs?: number } = {}): string {
    const item = this.item(ratingKey);
    const accountId = options.accountId ?? 1;
    this.account(accountId);
    const sessionKey = String(this.nextSession++);
    const s: Session = {
      sessionKey,
      ratingKey,
      accountId,
      offsetMs: options.offsetMs ?? 0,
      durationMs: options.durationMs ?? this.durationOf(item),
      state: "playing",
      player: { uuid: `player-${accountId}`, title: "Chrome", local: true },
      scrobbled: false,
    };
    this.sessions.set(sessionKey, s);
    this.notify(s);
    this.webhook("media.play", s);
    return sessionKey;
  }

  /** The player reports its position (a timeline): pause/resume, and the scrobble at 90 %. */
  progress(sessionKey: string, offsetMs: number, state: "playing" | "paused" = "playing") {
    const s = this.sessions.get(sessionKey);
    if (!s) throw new Error(`no session ${sessionKey}`);
    const was = s.state;
    s.offsetMs = Math.min(offsetMs, s.durationMs);
    s.state = state;
    this.notify(s);
    if (state === "paused" && was !== "paused") this.webhook("media.pause", s);
    if (state === "playing" && was === "paused") this.webhook("media.resume", s);
    if (!s.scrobbled && s.offsetMs >= s.durationMs * WATCHED_AT) this.scrobble(s);
  }

  /** The player stops: the session ends (gone from /status/sessions), the resume point is kept or cleared. */
  stop(sessionKey: string) {
    const s = this.sessions.get(sessionKey);
    if (!s) return;
    this.sessions.delete(sessionKey);
    s.state = "stopped";
    const v = this.viewState(s.ratingKey, s.accountId);
    // PMS keeps a resume point only between the first few seconds and the watched mark.
    v.viewOffset = s.scrobbled || s.offsetMs < 5_000 ? undefined : s.offsetMs;
    this.notify(s);
    this.webhook("media.stop", s);
  }

  /** A whole viewing: play, a few timelines up to `toFraction` of the item (1: the end), stop. */
  view(ratingKey: string, options: { accountId?: number; toFraction?: number; durationMs?: number } = {}) {
    const key = this.play(ratingKey, options);
    const s = this.sessions.get(key)!;
    const end = s.durationMs * (options.toFraction ?? 1);
    for (const f of [0.25, 0.5, 0.75, 0.95, 1]) if (s.durationMs * f <= end) this.progress(key, s.durationMs * f);
    this.progress(key, end);
    this.stop(key);
    return key;
  }

  /**
   * A viewing to the end that PMS's history already holds from before (it keeps years of it):
   * an entry at `viewedAtS` and the item watched, without a session, notification or webhook.
   */
  pastViewing(ratingKey: string, viewedAtS: number, accountId = 1) {
    this.item(ratingKey);
    this.account(accountId);
    const v = this.viewState(ratingKey, accountId);
    v.viewCount++;
    v.lastViewedAt = Math.max(v.lastViewedAt ?? 0, viewedAtS);
    this.history.push({ id: this.nextHistory++, ratingKey, accountId, viewedAt: viewedAtS, deviceId: accountId });
  }

  /** An account rates an item (0–10; undefined clears it), as a Plex app does. */
  rate(ratingKey: string, rating: number | undefined, accountId = 1) {
    const item = this.item(ratingKey);
    if (accountId === 1) item.userRating = rating;
    this.rated(item, rating, accountId);
  }

  /** Waits until every webhook delivery under way has finished. */
  async idle() {
    while (this.sending.size) await Promise.all([...this.sending]);
  }

  // ---- PMS's side ----

  /** The token's user rated an item (PUT /:/rate in server.ts); rating in 0–10, undefined when cleared. */
  rated(item: SimItem, rating: number | undefined, accountId = 1): void {
    const v = this.viewState(item.ratingKey, accountId);
    v.userRating = rating;
    v.lastRatedAt = now();
    this.webhook("media.rate", {
      ratingKey: item.ratingKey,
      accountId,
      offsetMs: v.viewOffset ?? 0,
      player: { uuid: "web", title: "Plex Web", local: true },
      rating: rating ?? -1,
    });
  }

  /** What the item shows of the owner's own state (server.ts adds it to the item's JSON). */
  stateOf(item: SimItem): Record<string, number> {
    const v = this.state.get(`${item.ratingKey}:1`);
    if (!v) return {};
    return Object.fromEntries(
      Object.entries({
        viewCount: v.viewCount || undefined,
        lastViewedAt: v.lastViewedAt,
        viewOffset: v.viewOffset,
        lastRatedAt: v.userRating === undefined ? undefined : v.lastRatedAt,
      }).filter(([, x]) => x !== undefined),
    ) as Record<string, number>;
  }

  /** Answers the requests about watching (sessions, history, notifications); undefined for the rest. */
  async handle(req: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    if (req.method !== "GET") return undefined;
    if (/^\/:\/(websockets?|eventsource)\/notifications$/.test(path)) {
      if (!this.streamPaths.has(path)) return new Response("Not Found", { status: 404 });
      if (path.includes("eventsource") || !this.pms.upgrade(req))
        return new Response("Bad Request: a websocket upgrade is expected", { status: 400 });
      return new Response(null, { status: 101 });
    }
    if (path === "/status/sessions") {
      const list = [...this.sessions.values()];
      return Response.json({ MediaContainer: { size: list.length, Metadata: list.map((s) => this.sessionJson(s)) } });
    }
    if (path === "/status/sessions/history/all") return this.historyAnswer(url.searchParams);
    if (path === "/accounts") {
      const all = [{ id: 0, name: "" }, ...this.accounts];
      return Response.json({
        MediaContainer: {
          size: all.length,
          Account: all.map((a) => ({ id: a.id, key: `/accounts/${a.id}`, name: a.name, defaultAudioLanguage: "en" })),
        },
      });
    }
    return undefined;
  }

  // ---- inside ----

  private item(ratingKey: string): SimItem {
    const item = this.pms.items.get(ratingKey);
    if (!item) throw new Error(`PMS has no item ${ratingKey}`);
    return item;
  }

  private account(id: number): SimAccount {
    const a = this.accounts.find((x) => x.id === id);
    if (!a) throw new Error(`PMS has no account ${id} (add it to watch.accounts)`);
    return a;
  }

  private durationOf(item: SimItem): number {
    const d = Number(item.fields.duration);
    return d > 0 ? d : 600_000;
  }

  private viewState(ratingKey: string, accountId: number): ViewState {
    const k = `${ratingKey}:${accountId}`;
    let v = this.state.get(k);
    if (!v) this.state.set(k, (v = { viewCount: 0 }));
    return v;
  }

  /** Passing 90 %: watched (viewCount, lastViewedAt), a history entry, media.scrobble. */
  private scrobble(s: Session) {
    s.scrobbled = true;
    const at = now();
    const v = this.viewState(s.ratingKey, s.accountId);
    v.viewCount++;
    v.lastViewedAt = at;
    this.history.push({
      id: this.nextHistory++,
      ratingKey: s.ratingKey,
      accountId: s.accountId,
      viewedAt: at,
      deviceId: s.accountId,
    });
    this.webhook("media.scrobble", s);
  }

  private typeOf(item: SimItem): string {
    return String((item as { type?: string }).type ?? item.fields.type ?? "movie");
  }

  private sectionType(item: SimItem): string {
    return this.pms.sections.find((x) => x.key === item.sectionId)?.type ?? "movie";
  }

  /** The item as the library API shows it to one account (its own view state). */
  private metadataFor(item: SimItem, accountId: number) {
    const v = this.state.get(`${item.ratingKey}:${accountId}`);
    const rating = accountId === 1 ? item.userRating : v?.userRating;
    return {
      librarySectionType: this.sectionType(item),
      ratingKey: item.ratingKey,
      key: `/library/metadata/${item.ratingKey}`,
      guid: item.guid,
      Guid: [],
      type: this.typeOf(item),
      title: item.title,
      librarySectionID: Number(item.sectionId),
      librarySectionKey: `/library/sections/${item.sectionId}`,
      duration: this.durationOf(item),
      updatedAt: item.updatedAt,
      ...(v?.viewOffset !== undefined ? { viewOffset: v.viewOffset } : {}),
      ...(v?.viewCount ? { viewCount: v.viewCount } : {}),
      ...(v?.lastViewedAt !== undefined ? { lastViewedAt: v.lastViewedAt } : {}),
      ...(rating !== undefined ? { userRating: rating, lastRatedAt: v?.lastRatedAt } : {}),
    };
  }

  private sessionJson(s: Session) {
    const item = this.item(s.ratingKey);
    const a = this.account(s.accountId);
    return {
      ...this.metadataFor(item, s.accountId),
      viewOffset: Math.round(s.offsetMs),
      duration: s.durationMs,
      sessionKey: s.sessionKey,
      User: { id: a.plexTvId, title: a.name, thumb: `https://plex.tv/users/${a.plexTvId}/avatar` },
      Player: { machineIdentifier: s.player.uuid, title: s.player.title, state: s.state, local: s.player.local },
      Session: { id: `session-${s.sessionKey}`, bandwidth: 1000, location: "lan" },
    };
  }

  private notify(s: Session) {
    this.pms.broadcast(
      JSON.stringify({
        NotificationContainer: {
          type: "playing",
          size: 1,
          PlaySessionStateNotification: [
            {
              sessionKey: s.sessionKey,
              clientIdentifier: s.player.uuid,
              guid: "",
              ratingKey: s.ratingKey,
              url: "",
              key: `/library/metadata/${s.ratingKey}`,
              viewOffset: Math.round(s.offsetMs),
              playQueueItemID: Number(s.sessionKey),
              state: s.state,
            },
          ],
        },
      }),
    );
  }

  private historyAnswer(q: URLSearchParams): Response {
    let list = [...this.history];
    const num = (name: string) => (q.has(name) ? Number(q.get(name)) : undefined);
    const account = num("accountID");
    const item = q.get("metadataItemID");
    const section = q.get("librarySectionID");
    if (account !== undefined) list = list.filter((h) => h.accountId === account);
    if (item) list = list.filter((h) => h.ratingKey === item);
    if (section) list = list.filter((h) => this.pms.items.get(h.ratingKey)?.sectionId === section);
    for (const [name, value] of q) {
      const keep = viewedAtFilter(name, value);
      if (keep) list = list.filter((h) => keep(h.viewedAt));
    }
    const sort = q.get("sort") ?? "viewedAt:desc";
    const desc = /:desc$/.test(sort);
    list.sort((a, b) => (desc ? b.viewedAt - a.viewedAt || b.id - a.id : a.viewedAt - b.viewedAt || a.id - b.id));
    const start = num("X-Plex-Container-Start") ?? 0;
    const size = num("X-Plex-Container-Size") ?? list.length;
    const page = list.slice(start, start + size);
    return Response.json(
      {
        MediaContainer: {
          size: page.length,
          totalSize: list.length,
          offset: start,
          Metadata: page.map((h) => {
            const it = this.pms.items.get(h.ratingKey);
            return {
              historyKey: `/status/sessions/history/${h.id}`,
              key: `/library/metadata/${h.ratingKey}`,
              ratingKey: h.ratingKey,
              librarySectionID: it?.sectionId,
              title: it?.title ?? "",
              type: it ? this.typeOf(it) : "movie",
              thumb: `/library/metadata/${h.ratingKey}/thumb/1`,
              viewedAt: h.viewedAt,
              accountID: h.accountId,
              deviceID: h.deviceId,
            };
          }),
        },
      },
      { headers: { "X-Plex-Container-Total-Size": String(list.length), "X-Plex-Container-Start": String(start) } },
    );
  }

  /** POSTs an event to every registered webhook URL, as PMS does (multipart; no retry). */
  private webhook(
    event: string,
    s: Pick<Session, "ratingKey" | "accountId" | "offsetMs" | "player"> & { rating?: number },
  ) {
    if (!this.webhooks.length || !this.pms.running) return;
    const item = this.item(s.ratingKey);
    const a = this.account(s.accountId);
    const payload = {
      event,
      user: s.accountId === 1,
      owner: true,
      ...(s.rating !== undefined ? { rating: s.rating } : {}),
      Account: { id: a.id, thumb: `https://plex.tv/users/${a.plexTvId}/avatar`, title: a.name },
      Server: { title: "Sim PMS", uuid: this.pms.machineIdentifier },
      Player: { local: s.player.local, publicAddress: "203.0.113.7", title: s.player.title, uuid: s.player.uuid },
      Metadata: { ...this.metadataFor(item, s.accountId), viewOffset: Math.round(s.offsetMs) },
    };
    const text = JSON.stringify(payload);
    for (const url of this.webhooks)
      for (let copy = 0; copy < this.duplicates; copy++) this.send(url, event, text, WITH_THUMB.has(event));
  }

  /** One delivery, after the ones before it (PMS sends a server's webhooks in order). */
  private send(url: string, event: string, text: string, thumb: boolean) {
    const form = new FormData();
    form.append("payload", text);
    if (thumb) form.append("thumb", new Blob([JPEG], { type: "image/jpeg" }), "thumb.jpg");
    const sent = this.last
      .then(() => fetch(url, { method: "POST", body: form, headers: { "user-agent": "PlexMediaServer/1.43.0" } }))
      .then(async (res) => {
        await res.arrayBuffer().catch(() => {});
        this.deliveries.push({ url, event, status: res.status });
      })
      .catch(() => void this.deliveries.push({ url, event, status: 0 })) // lost: PMS does not retry
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
    this.last = sent;
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** The viewedAt comparisons by the parameter's name (see the header: the raw `viewedAt>=N` is `viewedAt>` N). */
const VIEWED_AT: Record<string, (at: number, bound: number) => boolean> = {
  "viewedAt>": (at, bound) => at >= bound,
  "viewedAt<": (at, bound) => at <= bound,
  "viewedAt>>": (at, bound) => at > bound,
  "viewedAt<<": (at, bound) => at < bound,
  viewedAt: (at, bound) => at === bound,
};

/**
 * A history filter's test of an entry's viewedAt, or undefined when the parameter is no
 * viewedAt filter or its value is not a whole number (ignored: UNKNOWN on a real PMS, see the header).
 */
function viewedAtFilter(name: string, value: string): ((at: number) => boolean) | undefined {
  const compare = VIEWED_AT[name];
  if (!compare || !/^\d+$/.test(value)) return undefined;
  const bound = Number(value);
  return (at) => compare(at, bound);
}

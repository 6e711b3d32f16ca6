/**
 * What write-back reads from PMS about watching: who plays what (/status/sessions), the watch
 * history (/status/sessions/history/all), the server's accounts (/accounts), items by rating
 * key (their GUIDs: a history entry names only the rating key) and the notification stream's
 * URL. Kept apart from plex/client.ts (the push side's calls); answers are checked against
 * TypeBox schemas, loosely: PMS adds fields freely, we read only these.
 *
 * Every path is in pms-openapi.json except /accounts (python-plexapi's systemAccounts reads it;
 * PMS has long served it) and the stream's plural spelling, the one tried first (the description
 * has the singular only): WATCH_CALLS lists the described ones for a conformance check. Each
 * request is spelled as python-plexapi spells the same call, which works against real servers
 * (test/unit/plexapi-spelling.test.ts holds them side by side).
 */
import { Type } from "@sinclair/typebox";
import { PlexError, plexRequests, type PlexClientOptions } from "../plex/client.ts";

export const WATCH_CALLS = [
  ["GET", "/status/sessions"],
  ["GET", "/status/sessions/history/all"],
  ["GET", "/library/metadata/{ids}"],
  ["GET", "/:/websocket/notifications"],
  ["GET", "/library/sections/all"],
  ["GET", "/library/sections/{sectionId}/all"],
] as const;

/**
 * The notification stream's path as every working client spells it (python-plexapi alert.py,
 * python-plexwebsocket of Home Assistant, Tautulli), then as the API description does: no
 * evidence shows a real PMS answering the singular, it is the fallback only.
 */
export const STREAM_PATHS = ["/:/websockets/notifications", "/:/websocket/notifications"] as const;
export const STREAM_SPELLINGS = STREAM_PATHS.length;

const Id = Type.Union([Type.String(), Type.Number()]);
const Loose = { additionalProperties: true } as const;

const Sessions = Type.Object({
  MediaContainer: Type.Object(
    {
      Metadata: Type.Optional(
        Type.Array(
          Type.Object(
            {
              sessionKey: Id,
              ratingKey: Id,
              guid: Type.Optional(Type.String()),
              type: Type.Optional(Type.String()),
              duration: Type.Optional(Type.Number()),
              viewOffset: Type.Optional(Type.Number()),
              User: Type.Optional(Type.Object({ id: Type.Optional(Id), title: Type.Optional(Type.String()) }, Loose)),
            },
            Loose,
          ),
        ),
      ),
    },
    Loose,
  ),
});

const History = Type.Object({
  MediaContainer: Type.Object(
    {
      size: Type.Optional(Type.Number()),
      totalSize: Type.Optional(Type.Number()),
      Metadata: Type.Optional(
        Type.Array(
          Type.Object(
            {
              historyKey: Type.Optional(Type.String()),
              ratingKey: Type.Optional(Id),
              viewedAt: Type.Number(),
              accountID: Type.Optional(Id),
              type: Type.Optional(Type.String()),
            },
            Loose,
          ),
        ),
      ),
    },
    Loose,
  ),
});

const Accounts = Type.Object({
  MediaContainer: Type.Object(
    {
      Account: Type.Optional(Type.Array(Type.Object({ id: Id, name: Type.Optional(Type.String()) }, Loose))),
    },
    Loose,
  ),
});

const Sections = Type.Object({
  MediaContainer: Type.Object(
    {
      Directory: Type.Optional(
        Type.Array(Type.Object({ key: Id, type: Type.String(), agent: Type.Optional(Type.String()) }, Loose)),
      ),
    },
    Loose,
  ),
});

const Items = Type.Object({
  MediaContainer: Type.Object(
    {
      Metadata: Type.Optional(
        Type.Array(
          Type.Object(
            {
              ratingKey: Id,
              guid: Type.Optional(Type.String()),
              type: Type.Optional(Type.String()),
              duration: Type.Optional(Type.Number()),
              lastViewedAt: Type.Optional(Type.Number()),
              userRating: Type.Optional(Type.Number()),
              lastRatedAt: Type.Optional(Type.Number()),
            },
            Loose,
          ),
        ),
      ),
    },
    Loose,
  ),
});

export interface PlexSession {
  sessionKey: string;
  ratingKey: string;
  guid?: string;
  type?: string;
  durationMs?: number;
  /** The plex.tv user id and name (not PMS's account number). */
  user?: { id?: string; title?: string };
}

export interface HistoryEntry {
  ratingKey: string;
  /** Seconds since the epoch. */
  viewedAt: number;
  /** PMS's account number (1: the owner). */
  accountId: string;
  type?: string;
}

export type PmsWatchOptions = PlexClientOptions;

export function createPmsWatch(options: PmsWatchOptions) {
  const { get } = plexRequests(options);

  /**
   * The notification stream's websocket URLs, to try in turn (the token in the query: a
   * websocket sends no headers): the one python-plexapi and Home Assistant connect to, then the
   * one pms-openapi.json names.
   */
  const notificationsUrls = (): string[] =>
    STREAM_PATHS.map((path) => {
      const url = new URL(`${options.url}${path}`);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      url.searchParams.set("X-Plex-Token", options.token);
      return url.toString();
    });
  return {
    /** Who plays what now. */
    async sessions(): Promise<PlexSession[]> {
      const { MediaContainer: mc } = await get(Sessions, "/status/sessions");
      return (mc.Metadata ?? []).map((m) => ({
        sessionKey: String(m.sessionKey),
        ratingKey: String(m.ratingKey),
        guid: m.guid,
        type: m.type,
        durationMs: m.duration,
        user: m.User ? { id: m.User.id === undefined ? undefined : String(m.User.id), title: m.User.title } : undefined,
      }));
    },
    /**
     * One page of the watch history, oldest first, from `sinceS` (inclusive: entries of the same
     * second are read again, their keys make that harmless); `ratingKey`/`accountId` narrow it.
     */
    async history(q: {
      sinceS?: number;
      start?: number;
      size?: number;
      ratingKey?: string;
      accountId?: string;
      newestFirst?: boolean;
    }): Promise<{ total: number; entries: HistoryEntry[] }> {
      const query: Record<string, string> = {
        sort: q.newestFirst ? "viewedAt:desc" : "viewedAt:asc",
        "X-Plex-Container-Start": String(q.start ?? 0),
        "X-Plex-Container-Size": String(q.size ?? 200),
      };
      // A media-query filter, the raw `viewedAt>=N`: the name `viewedAt>`, the value the plain
      // number, as python-plexapi's history() sends it (a value `=N` is no number to PMS).
      if (q.sinceS !== undefined) query["viewedAt>"] = String(Math.floor(q.sinceS));
      if (q.ratingKey) query.metadataItemID = q.ratingKey;
      if (q.accountId) query.accountID = q.accountId;
      const { MediaContainer: mc } = await get(History, "/status/sessions/history/all", query);
      const entries = (mc.Metadata ?? []).flatMap((m) =>
        m.ratingKey === undefined || m.accountID === undefined
          ? [] // an entry of a deleted item: nothing to write it to
          : [{ ratingKey: String(m.ratingKey), viewedAt: m.viewedAt, accountId: String(m.accountID), type: m.type }],
      );
      return { total: mc.totalSize ?? mc.size ?? entries.length, entries };
    },
    /** The server's accounts: PMS's number → name (0 is the system's, left out). */
    async accounts(): Promise<Map<string, string>> {
      const { MediaContainer: mc } = await get(Accounts, "/accounts");
      return new Map((mc.Account ?? []).filter((a) => String(a.id) !== "0").map((a) => [String(a.id), a.name ?? ""]));
    },
    /** Items by rating key (up to ~100 a call): GUID and type of each one PMS still has. */
    async items(ratingKeys: readonly string[]) {
      if (!ratingKeys.length) return [];
      try {
        const { MediaContainer: mc } = await get(Items, `/library/metadata/${ratingKeys.join(",")}`);
        return (mc.Metadata ?? []).map((m) => ({
          ratingKey: String(m.ratingKey),
          guid: m.guid,
          type: m.type,
          durationMs: m.duration,
          lastViewedAt: m.lastViewedAt,
        }));
      } catch (err) {
        if (err instanceof PlexError && err.status === 404) return []; // none of them is left
        throw err;
      }
    },
    /** The library sections: key, type (movie, show…) and agent. */
    async sections() {
      const { MediaContainer: mc } = await get(Sections, "/library/sections/all");
      return (mc.Directory ?? []).map((d) => ({ key: String(d.key), type: d.type, agent: d.agent ?? "" }));
    },
    /**
     * One page of a section's items of a type (1 movies, 4 episodes) with the token user's
     * rating (userRating, lastRatedAt: the token is the server owner's).
     */
    async ratedPage(sectionId: string, type: 1 | 4, start: number, size: number) {
      const { MediaContainer: mc } = await get(Items, `/library/sections/${sectionId}/all`, {
        type: String(type),
        "X-Plex-Container-Start": String(start),
        "X-Plex-Container-Size": String(size),
      });
      const items = (mc.Metadata ?? []).map((m) => ({
        ratingKey: String(m.ratingKey),
        guid: m.guid,
        userRating: m.userRating,
        lastRatedAt: m.lastRatedAt,
      }));
      return { total: Number((mc as { totalSize?: number }).totalSize ?? items.length), items };
    },
    /**
     * Which spelling of the notification stream's path this PMS opens (the first that does,
     * within `timeoutMs` each), or undefined when neither does. For `check`: the path only,
     * never the URL (it carries the token).
     */
    async streamPath(timeoutMs = 3_000): Promise<string | undefined> {
      for (const [i, url] of notificationsUrls().entries()) {
        if (await opens(url, timeoutMs)) return STREAM_PATHS[i];
      }
      return undefined;
    },
    notificationsUrls,
  };
}
export type PmsWatch = ReturnType<typeof createPmsWatch>;

/** Whether a websocket opens at `url` within `timeoutMs` (closed again at once). */
function opens(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return resolve(false);
    }
    const done = (ok: boolean) => {
      clearTimeout(timer);
      ws.onopen = ws.onclose = ws.onerror = null;
      ws.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.onopen = () => done(true);
    ws.onclose = () => done(false);
    ws.onerror = () => done(false);
  });
}

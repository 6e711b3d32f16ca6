/**
 * `GET /api/scene-status/{id}`: one scene's state in Plex for the Stash plugin's panel on the
 * scene page — delivered (when), waiting (since when, the last error), given up (why), its Plex
 * items with links that open them in Plex Web, its place in each TV library. Read with the
 * read-only token (or the admin token). Stash's pages are another origin, so CORS answers only
 * the Stash origins configured (each instance's Stash URL): a page elsewhere cannot read it.
 */
import { Elysia } from "elysia";
import { HttpError } from "../http.ts";
import { DEFAULT_INSTANCE_ID, INSTANCE_ID, sceneRef, type Ref } from "../domain/ref.ts";
import { VERSION } from "../version.ts";
import type { Access } from "./access.ts";

export type SceneState = "delivered" | "waiting" | "dead" | "unknown";

export interface SceneStatus {
  version: string;
  instance: string;
  scene: string;
  state: SceneState;
  /** delivered: when (ms). */
  at?: number;
  /** waiting: since when (ms). */
  since?: number;
  lastError?: string;
  /** foundBy: the item's name told nothing; it was found by its size and duration, or its oshash. */
  items: { ratingKey: string; title: string; url?: string; foundBy?: "size+duration" | "oshash" }[];
  tv: { library: string; show: string; season: number; episode: number }[];
}

export interface SceneStatusSource {
  access: Access;
  /** Each Stash instance's id and the origin of its URL (whose pages may read this). */
  stashOrigins: { instance: string; origin: string }[];
  state(ref: Ref): Pick<SceneStatus, "state" | "at" | "since" | "lastError">;
  items(ref: Ref): Omit<SceneStatus["items"][number], "url">[];
  tv(ref: Ref): SceneStatus["tv"];
  /** PMS's machine identifier (Plex Web's links name the server by it); undefined while unknown. */
  machineIdentifier(): Promise<string | undefined>;
}

/** Plex Web's page of an item, as python-plexapi's getWebURL spells it. */
export const plexWebUrl = (machineIdentifier: string, ratingKey: string) =>
  `https://app.plex.tv/desktop/#!/server/${machineIdentifier}/details?key=${encodeURIComponent(`/library/metadata/${ratingKey}`)}`;

export function sceneStatusRoutes(src: SceneStatusSource) {
  const allowed = new Set(src.stashOrigins.map((s) => s.origin.toLowerCase()));
  /** The CORS headers for a configured Stash's page; none for any other origin. */
  const cors = (request: Request): Record<string, string> => {
    const origin = request.headers.get("origin");
    return origin && allowed.has(origin.toLowerCase())
      ? { "access-control-allow-origin": origin, vary: "Origin" }
      : { vary: "Origin" };
  };
  /** The browser's preflight: allowed only from a configured Stash's pages. */
  const preflight = (request: Request) => {
    const headers = cors(request);
    if (!headers["access-control-allow-origin"]) return new Response(null, { status: 403, headers });
    return new Response(null, {
      status: 204,
      headers: {
        ...headers,
        "access-control-allow-methods": "GET",
        "access-control-allow-headers": "authorization",
        "access-control-max-age": "600",
      },
    });
  };
  /** The read-only token or the admin's (a read); the CORS headers of the answer. */
  const authorise = (request: Request, set: { headers: Record<string, unknown> }) => {
    Object.assign(set.headers, cors(request));
    if (!src.access.isReadToken(request.headers) && !src.access.canRead(request.headers))
      throw new HttpError(401, "read_token", "reading a scene's state needs the read-only token (ADMIN_READ_TOKEN)");
  };
  return (
    new Elysia({ name: "scene-status" })
      .options("/api/scene-status/:id", ({ request }) => preflight(request))
      // Which stash2plex the plugin talks to (its settings page says so, and warns when it is older).
      .get("/api/scene-status", ({ request, set }) => {
        authorise(request, set);
        return { version: VERSION };
      })
      .options("/api/scene-status", ({ request }) => preflight(request))
      .get("/api/scene-status/:id", async ({ params, query, request, set }) => {
        authorise(request, set);
        if (!/^\d{1,18}$/.test(params.id)) throw new HttpError(400, "bad_id", "a scene id is a number");
        const instance = query.instance || DEFAULT_INSTANCE_ID;
        if (!INSTANCE_ID.test(instance) || !src.stashOrigins.some((s) => s.instance === instance))
          throw new HttpError(404, "no_instance", `no Stash instance "${String(instance).slice(0, 40)}" is configured`);
        const ref = sceneRef(instance, params.id);
        const machine = await src.machineIdentifier();
        const status: SceneStatus = {
          version: VERSION,
          instance,
          scene: params.id,
          ...src.state(ref),
          items: src.items(ref).map((i) => ({ ...i, ...(machine ? { url: plexWebUrl(machine, i.ratingKey) } : {}) })),
          tv: src.tv(ref),
        };
        return status;
      })
  );
}

/** The scene's state from the queue's records: a waiting push first, then a dead letter, then the last delivery. */
export function stateOf(
  queue: {
    job(ref: Ref): { first_queued_at: number; last_error: string | null } | undefined;
    deadLetter(ref: Ref): { last_error: string } | undefined;
    delivery(ref: Ref): { at: number } | undefined;
  },
  ref: Ref,
): Pick<SceneStatus, "state" | "at" | "since" | "lastError"> {
  const job = queue.job(ref);
  if (job)
    return { state: "waiting", since: job.first_queued_at, ...(job.last_error ? { lastError: job.last_error } : {}) };
  const dead = queue.deadLetter(ref);
  if (dead) return { state: "dead", lastError: dead.last_error };
  const delivered = queue.delivery(ref);
  return delivered ? { state: "delivered", at: delivered.at } : { state: "unknown" };
}

/** PMS's machine identifier, asked at most every 10 minutes (none while Plex does not answer). */
export function cachedMachineIdentifier(identity: () => Promise<{ machineIdentifier: string }>) {
  let known: { id: string; at: number } | undefined;
  return async (): Promise<string | undefined> => {
    if (known && Date.now() - known.at < 600_000) return known.id;
    try {
      known = { id: (await identity()).machineIdentifier, at: Date.now() };
    } catch {
      // Plex down: the panel shows the items without links.
    }
    return known?.id;
  };
}

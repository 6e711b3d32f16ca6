/**
 * Which Stash scene a request is about, for its log line (`scene: "<id>"`), so one search for a
 * scene finds every line about it: PMS fetching its metadata or images, its page on the dashboard
 * or the API, the webhook or a sync queueing it. Pure: it reads the route template, the path
 * parameters and the parsed body the router already has.
 */

/** Routes whose path names one scene, and the parameter holding its id. */
const SCENE_PARAM: Record<string, string> = {
  "/library/metadata/:ratingKey": "ratingKey",
  "/library/metadata/:ratingKey/images": "ratingKey",
  "/library/metadata/:ratingKey/extras": "ratingKey",
  "/api/scenes/:id": "id",
  "/api/scene-status/:id": "id",
  "/ui/scenes/:id": "id",
  "/ui/live/scenes/:id": "id",
};
/** A Stash id: digits only (anything else in a path is not a scene, and is not logged as one). */
const SCENE_ID = /^\d{1,18}$/;
/** A request naming more scenes lists the first few: enough to search by, never a huge line. */
const MAX_LISTED = 20;

export type SceneFields = { scene: string } | { sceneIds: string[] } | Record<string, never>;

export function sceneOfRequest(route: string | undefined, params: unknown, body: unknown): SceneFields {
  const p = (params ?? {}) as Record<string, unknown>;
  const name = route ? SCENE_PARAM[route] : undefined;
  if (name) return one(p[name]);
  if (route === "/images/:kind/:id" && p.kind === "scene") return one(p.id);
  return fromBody(body);
}

/**
 * `{"sceneIds": [...]}` (webhook, sync, dead letters), a Stash hook's `{"hookContext": {"type":
 * "Scene…", "id": 12}}`, or a dashboard form's `sceneId` fields (its parser makes each a list).
 */
function fromBody(body: unknown): SceneFields {
  if (!body || typeof body !== "object") return {};
  const b = body as { sceneIds?: unknown; sceneId?: unknown; hookContext?: { type?: unknown; id?: unknown } };
  const listed = b.sceneIds ?? b.sceneId;
  if (listed !== undefined) {
    const ids = (Array.isArray(listed) ? listed : [listed]).map(String).filter((id) => SCENE_ID.test(id));
    if (ids.length === 1) return { scene: ids[0]! };
    return ids.length ? { sceneIds: ids.slice(0, MAX_LISTED) } : {};
  }
  const hook = b.hookContext;
  if (hook && typeof hook.type === "string" && hook.type.startsWith("Scene.")) return one(hook.id);
  return {};
}

function one(id: unknown): SceneFields {
  const text = typeof id === "number" || typeof id === "string" ? String(id) : "";
  return SCENE_ID.test(text) ? { scene: text } : {};
}

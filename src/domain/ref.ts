/**
 * One name for everything we sync: which Stash instance, what kind of thing, which id.
 * The Plex GUID, the provider's rating key, the queue key and metric labels are all derived
 * from a reference here, and nowhere else (a `movie/` written in a string elsewhere is a bug
 * waiting for TV-style libraries). This folder imports nothing of ours.
 */

/** What a reference points at. Scenes today; shows, seasons, episodes and collections follow. */
export type Kind = "scene";
export const KINDS: readonly Kind[] = ["scene"];

export interface Ref {
  /** The Stash instance's id (config); the first instance is the default. */
  instance: string;
  kind: Kind;
  /** The id Stash gives the thing. */
  id: string;
}

/** An instance id: short, lower-case, safe in a URL path, a GUID scheme and a metric label. */
export const INSTANCE_ID = /^[a-z][a-z0-9]{0,31}$/;
/** The id an install with one Stash has (and keeps after upgrading). */
export const DEFAULT_INSTANCE_ID = "default";

export const sceneRef = (instance: string, id: string): Ref => ({ instance, kind: "scene", id });

/** The key a reference is stored and queued under: `default:scene:42`. */
export const refKey = (ref: Ref) => `${ref.instance}:${ref.kind}:${ref.id}`;

/** The reference behind a key made by `refKey`, or null when the text is not one. */
export function parseRefKey(key: string): Ref | null {
  const m = /^([a-z][a-z0-9]{0,31}):(scene):([0-9]{1,18})$/.exec(key);
  return m ? { instance: m[1]!, kind: m[2] as Kind, id: m[3]! } : null;
}

/** The type path Plex shows in a GUID for each kind (a scene is a Plex movie). */
const PLEX_TYPE = { scene: "movie" } as const satisfies Record<Kind, string>;

/** The Plex type of a kind's items (a scene is a Plex `movie`). */
export const plexTypeOf = (kind: Kind) => PLEX_TYPE[kind];

/** Our GUID of a reference under the instance's provider identifier: `tv.plex.agents.custom.stash2plex://movie/42`. */
export const guidOf = (identifier: string, ref: Ref) => `${identifier}://${PLEX_TYPE[ref.kind]}/${ref.id}`;

/**
 * Our GUID of a Stash group served as a Plex collection (`…://collection/g3`). Collections are
 * not references yet (no instance in the key); this keeps their GUID built in this one place.
 */
export const collectionGuidOf = (identifier: string, collectionKey: string) =>
  `${identifier}://collection/${collectionKey}`;

/** The rating key the provider serves a reference under (its instance is in the provider's URL). */
export const ratingKeyOf = (ref: Ref) => ref.id;

/** A Stash instance as the rest of the code needs to name it. */
export interface InstanceName {
  id: string;
  /** The provider identifier, also the GUID scheme of its items. */
  identifier: string;
}

/**
 * The reference inside one of our GUIDs: the scheme names the instance, the path the kind and
 * id. Null for anyone else's GUID (another agent, `local://`, a collection).
 */
export function refFromGuid(guid: string | undefined, instances: readonly InstanceName[]): Ref | null {
  if (!guid) return null;
  const at = guid.indexOf("://");
  if (at < 0) return null;
  const instance = instances.find((i) => i.identifier === guid.slice(0, at));
  if (!instance) return null;
  const match = /^(movie)\/(\d{1,18})(?:[?#].*)?$/.exec(guid.slice(at + 3));
  return match ? sceneRef(instance.id, match[2]!) : null;
}

/**
 * The provider identifier of an instance: the default keeps the configured one byte for byte
 * (Plex re-matches nothing after an upgrade); another appends its id.
 */
export const instanceIdentifier = (baseIdentifier: string, instanceId: string, isDefault: boolean) =>
  isDefault ? baseIdentifier : `${baseIdentifier}.${instanceId}`;

/** Where an instance's provider is served: the default at the root (today's URL), others below `/instances/<id>`. */
export const instancePath = (instanceId: string, isDefault: boolean) => (isDefault ? "" : `/instances/${instanceId}`);

/**
 * One name for everything we sync: which Stash instance, what kind of thing, which id.
 * The Plex GUID, the provider's rating key, the queue key and metric labels are all derived
 * from a reference here, and nowhere else (a `movie/` written in a string elsewhere is a bug
 * waiting for TV-style libraries). This folder imports nothing of ours.
 */

/**
 * What a reference points at. A scene is a Plex movie in a movie library; in a TV-style library
 * the same scene is an episode (its id is the scene's id), grouped into shows (a studio, a studio
 * with its sub-studios, or a group) and seasons (see SHOW_ID and SEASON_ID).
 */
export type Kind = "scene" | "show" | "season" | "episode";
export const KINDS: readonly Kind[] = ["scene", "show", "season", "episode"];

/**
 * A show's id says what it is: `st12` a studio's own scenes, `sn12` a studio with its
 * sub-studios (its "network"), `gr3` a Stash group. Self-describing, so one TV provider serves
 * libraries of different layouts without a lookup table.
 */
export const SHOW_ID = /^(st|sn|gr)(\d{1,18})$/;
/** A season's id: its show's and the season number (a year, 0 for undated/specials): `st12-2023`. */
export const SEASON_ID = /^((?:st|sn|gr)\d{1,18})-(\d{1,4})$/;
/**
 * An episode's id: the layout's show scheme and the scene's id (`st-42`). One scene is an
 * episode in a studio show and in a group show at once; each must be its own Plex item with
 * its own parent, so the scheme is part of the id.
 */
export const EPISODE_ID = /^(st|sn|gr)-(\d{1,18})$/;
export type ShowScheme = "st" | "sn" | "gr";
/** Every scheme a TV library's shows can have (studio, network, group). */
export const SHOW_SCHEMES: readonly ShowScheme[] = ["st", "sn", "gr"];
const ID_OF: Record<Kind, RegExp> = { scene: /^\d{1,18}$/, episode: EPISODE_ID, show: SHOW_ID, season: SEASON_ID };

/** Whether an id is well formed for its kind. */
export const isIdOf = (kind: Kind, id: string) => ID_OF[kind].test(id);

export interface Ref<K extends Kind = Kind> {
  /** The Stash instance's id (config); the first instance is the default. */
  instance: string;
  kind: K;
  /** The id Stash gives the thing. */
  id: string;
}

/** An instance id: short, lower-case, safe in a URL path, a GUID scheme and a metric label. */
export const INSTANCE_ID = /^[a-z][a-z0-9]{0,31}$/;
/** The id an install with one Stash has (and keeps after upgrading). */
export const DEFAULT_INSTANCE_ID = "default";

export const sceneRef = (instance: string, id: string): Ref<"scene"> => ({ instance, kind: "scene", id });
/** A scene served as an episode of a TV-style library whose shows are of one scheme. */
export const episodeRef = (instance: string, scheme: ShowScheme, sceneId: string): Ref<"episode"> => ({
  instance,
  kind: "episode",
  id: `${scheme}-${sceneId}`,
});
export const showRef = (instance: string, showId: string): Ref => ({ instance, kind: "show", id: showId });
export const seasonRef = (instance: string, seasonId: string): Ref => ({ instance, kind: "season", id: seasonId });
/** The season id of a show's season number. */
export const seasonIdOf = (showId: string, season: number) => `${showId}-${season}`;

/** The key a reference is stored and queued under: `default:scene:42`. */
export const refKey = (ref: Ref) => `${ref.instance}:${ref.kind}:${ref.id}`;

/** The reference behind a key made by `refKey`, or null when the text is not one. */
export function parseRefKey(key: string): Ref | null {
  const m = /^([a-z][a-z0-9]{0,31}):(scene|show|season|episode):([a-z0-9-]{1,40})$/.exec(key);
  return m && isIdOf(m[2] as Kind, m[3]!) ? { instance: m[1]!, kind: m[2] as Kind, id: m[3]! } : null;
}

/** The type path Plex shows in a GUID for each kind (a scene is a Plex movie). */
const PLEX_TYPE = { scene: "movie", show: "show", season: "season", episode: "episode" } as const satisfies Record<
  Kind,
  string
>;
/** Plex's type numbers (provider contract): movie 1, show 2, season 3, episode 4. */
export const PLEX_TYPE_NUMBER = { movie: 1, show: 2, season: 3, episode: 4 } as const;

/** The Plex type of a kind's items (a scene is a Plex `movie`). */
export const plexTypeOf = <K extends Kind>(kind: K): (typeof PLEX_TYPE)[K] => PLEX_TYPE[kind];

/**
 * Our GUID of a reference under the identifier of the provider serving it: a scene under the
 * movie provider's (`tv.plex.agents.custom.stash2plex://movie/42`), a show, season or episode
 * under the TV provider's (`tv.plex.agents.custom.stash2plex.tv://episode/42`).
 */
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
  /** Its TV provider's identifier (tvIdentifierOf), the scheme of its shows, seasons and episodes. */
  tvIdentifier?: string;
}

/**
 * The reference inside one of our GUIDs: the scheme names the instance, the path the kind and
 * id. Null for anyone else's GUID (another agent, `local://`, a collection).
 */
export function refFromGuid(guid: string | undefined, instances: readonly InstanceName[]): Ref | null {
  if (!guid) return null;
  const at = guid.indexOf("://");
  if (at < 0) return null;
  const scheme = guid.slice(0, at);
  const movie = instances.find((i) => i.identifier === scheme);
  const tv = movie ? undefined : instances.find((i) => i.tvIdentifier === scheme);
  const rest = /^(movie|show|season|episode)\/([a-z0-9-]{1,40})(?:[?#].*)?$/.exec(guid.slice(at + 3));
  if (!rest || !(movie || tv)) return null;
  const type = rest[1]!;
  const kind: Kind | undefined = movie
    ? type === "movie"
      ? "scene"
      : undefined
    : type === "movie"
      ? undefined
      : (type as Kind);
  return kind && isIdOf(kind, rest[2]!) ? { instance: (movie ?? tv)!.id, kind, id: rest[2]! } : null;
}

/** The Stash scene behind a reference, when it is one (a scene, or a scene served as an episode). */
export const sceneIdOf = (ref: Ref): string | null =>
  ref.kind === "scene" ? ref.id : ref.kind === "episode" ? (EPISODE_ID.exec(ref.id)?.[2] ?? null) : null;

/**
 * The provider identifier of an instance: the default keeps the configured one byte for byte
 * (Plex re-matches nothing after an upgrade); another appends its id.
 */
export const instanceIdentifier = (baseIdentifier: string, instanceId: string, isDefault: boolean) =>
  isDefault ? baseIdentifier : `${baseIdentifier}.${instanceId}`;

/**
 * The identifier of an instance's TV provider (Plex wants one provider per parent type, so TV
 * is a second provider beside the movie one): `<movie identifier>.tv`. The instance id `tv` is
 * reserved so no instance's movie identifier can equal the default's TV one.
 */
export const tvIdentifierOf = (movieIdentifier: string) => `${movieIdentifier}.tv`;
/** Where an instance's TV provider is served: below its movie provider's path. */
export const tvPathOf = (instancePathValue: string) => `${instancePathValue}/tv`;

/** Where an instance's provider is served: the default at the root (today's URL), others below `/instances/<id>`. */
export const instancePath = (instanceId: string, isDefault: boolean) => (isDefault ? "" : `/instances/${instanceId}`);

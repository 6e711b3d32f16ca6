/**
 * The one config schema. Every setting is declared here once, with its default and a
 * description; the loader, the README's config reference and the Unraid/TrueNAS templates
 * are all derived from it. Each leaf can be set by an env var named after its path
 * (`stash.apiKey` → `STASH_API_KEY`) or in the optional YAML file.
 */
import { Type, type Static, type TObject, type TSchema } from "@sinclair/typebox";
import { HEALABLE_KINDS, SAFE_KINDS } from "../domain/gaps.ts";
import { PathRuleSchema } from "../schema/path-rule.ts";
import { INSTANCE_ID } from "../domain/ref.ts";

const Url = (description: string, dflt?: string) =>
  Type.String({ description, pattern: "^https?://[^\\s/]+", ...(dflt === undefined ? {} : { default: dflt }) });
const Secret = (description: string) => Type.String({ description, default: "", secret: true });

export const SectionSchema = Type.Object({
  id: Type.String({ pattern: "^[0-9]+$", description: "The Plex library section id." }),
  strategy: Type.Union([Type.Literal("auto"), Type.Literal("refresh"), Type.Literal("edit")], {
    default: "auto",
    description:
      "refresh: PMS re-pulls from this provider; edit: fields are written and locked directly; auto: refresh where the section's agent is this provider, else edit.",
  }),
  instance: Type.Optional(
    Type.String({
      pattern: INSTANCE_ID.source,
      description:
        "The Stash instance (its id) whose scenes the section holds. Absent: the instance whose provider is the section's agent, else the first (default) one.",
    }),
  ),
});

export const EDIT_FIELDS = [
  "title",
  "summary",
  "date",
  "studio",
  "tagline",
  "contentRating",
  "genres",
  "actors",
  "collections",
  "rating",
  "poster",
  "background",
] as const;
export type EditField = (typeof EDIT_FIELDS)[number];

export const LogLevel = Type.Union(
  [Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")],
  { default: "info", description: "debug, info, warn or error." },
);

const ProviderSchema = Type.Object(
  {
    identifier: Type.String({
      pattern: "^tv\\.plex\\.agents\\.custom\\.[A-Za-z0-9.]+$",
      default: "tv.plex.agents.custom.stash2plex",
      description: "Provider identifier; also the GUID scheme of every item.",
    }),
    title: Type.String({ minLength: 1, default: "Stash", description: "Name shown in Plex's agent list." }),
    contentRating: Type.String({ default: "XXX", description: "contentRating given to every scene (empty: none)." }),
    genreMode: Type.Union([Type.Literal("all"), Type.Literal("first"), Type.Literal("joined")], {
      default: "all",
      description:
        "all: every tag a genre; first: only the first; joined: one genre of all tags (PMS builds that import only the first).",
    }),
    excludeTags: Type.Array(Type.String(), {
      default: [],
      description: "Tags never sent as genres (comma list in env).",
    }),
    taglineFrom: Type.Union([Type.Literal("code"), Type.Literal("none")], {
      default: "code",
      description: "code: the scene code is the tagline; none: no tagline.",
    }),
    ratingAs: Type.Union([Type.Literal("critic"), Type.Literal("user")], {
      default: "critic",
      description:
        "Where the Stash rating goes in Plex: critic (the item's rating, served by the provider) or user (your own star rating, set on each push).",
    }),
    matchOnly: Type.Array(Type.Union([Type.Literal("organized"), Type.Literal("stashId"), Type.Literal("url")]), {
      default: [],
      description:
        "Automatic matches only for scenes that are organized, have a StashDB id (stashId) or have a URL (url); comma list in env. Fix Match still lists the others, marked.",
    }),
  },
  { default: {} },
);

const PathsSchema = Type.Object(
  {
    rules: Type.Array(PathRuleSchema, {
      default: [],
      description: "Ordered path rules, first match wins. Empty: Plex and Stash see the same paths. In env: JSON.",
    }),
    auto: Type.Boolean({
      default: false,
      description:
        "With no rules configured: infer them from Plex's and Stash's file paths once both are indexed, and apply them when each maps at least 99% of the Plex files it touches (`stash2plex check` prints them to paste).",
    }),
  },
  { default: {} },
);

/** What a Plex collection can be made of (collections/kinds.ts). */
export const COLLECTION_KINDS = ["studio", "network", "group", "performer", "tag"] as const;
export type CollectionKind = (typeof COLLECTION_KINDS)[number];

const CollectionsSchema = Type.Object(
  {
    kinds: Type.Array(Type.Union(COLLECTION_KINDS.map((k) => Type.Literal(k))), {
      default: ["studio", "network", "group"],
      description:
        "What becomes a Plex collection, kept exact (comma list in env): studio, network (a parent studio: its sub-studios' scenes), group, performer, tag. [] (in env too): none.",
    }),
    studioPrefix: Type.String({ default: "", description: "Put before a studio collection's name." }),
    networkPrefix: Type.String({
      default: "Network: ",
      description: "Put before a network collection's name (a parent studio is a studio too).",
    }),
    groupPrefix: Type.String({ default: "", description: "Put before a group collection's name." }),
    performerPrefix: Type.String({
      default: "Performer: ",
      description: "Put before a performer collection's name.",
    }),
    tagPrefix: Type.String({ default: "Tag: ", description: "Put before a tag collection's name." }),
    performerMinScenes: Type.Integer({
      minimum: 1,
      default: 5,
      description: "A performer becomes a collection with at least this many scenes.",
    }),
    tags: Type.Array(Type.String(), {
      default: [],
      description: "Tags (names) that become collections (comma list in env).",
    }),
    tagParents: Type.Array(Type.String(), {
      default: [],
      description: "Parent tags (names): every tag under them becomes a collection (comma list in env).",
    }),
    everyMinutes: Type.Number({
      minimum: 0,
      default: 60,
      description:
        "How often every collection is checked against Stash (a studio renamed, a tag's image changed: nothing a scene's change shows); 0 turns the schedule off.",
    }),
  },
  { default: {} },
);
export type CollectionsConfig = Static<typeof CollectionsSchema>;

/**
 * The same settings, each optional and without a default: an instance's own value, else the
 * top-level one (a default here would hide the top-level value).
 */
function overridable(schema: TObject, omit: string[] = []) {
  const props = Object.entries(schema.properties)
    .filter(([name]) => !omit.includes(name))
    .map(([name, child]) => {
      const { default: _, ...rest } = child as TSchema & { default?: unknown };
      return [name, Type.Optional(rest as TSchema)] as const;
    });
  return Type.Object(Object.fromEntries(props), { additionalProperties: false });
}

const STASH_TIMEOUT = { minimum: 100, maximum: 120000, description: "Timeout of one Stash request." };

/** One Stash instance of the list form (`stash:` as a YAML list, or STASH_INSTANCES). */
export const StashInstanceSchema = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        pattern: INSTANCE_ID.source,
        description:
          "Short id (a-z, 0-9): the instance's provider URL /instances/{id} and identifier suffix. The first instance's id is 'default' (leave it out).",
      }),
    ),
    name: Type.Optional(
      Type.String({ minLength: 1, description: "Shown in logs, the dashboard and Plex's agent list." }),
    ),
    url: Type.Optional(Url("This Stash's base URL; the first instance's defaults to stash.url (STASH_URL).")),
    apiKey: Type.Optional(
      Type.String({
        secret: true,
        description: "This Stash's API key; the first instance without a url of its own takes stash.apiKey.",
      }),
    ),
    timeoutMs: Type.Optional(Type.Integer(STASH_TIMEOUT)),
    paths: Type.Optional(overridable(PathsSchema)),
    // The identifier is derived from the instance id (domain/ref.ts), never set per instance.
    provider: Type.Optional(overridable(ProviderSchema, ["identifier"])),
    collections: Type.Optional(overridable(CollectionsSchema)),
  },
  { additionalProperties: false },
);
export type StashInstanceConfig = Static<typeof StashInstanceSchema>;

/** One TV-style library (issue 20; src/tv/ owns what these mean). */
export const TvLibrarySchema = Type.Object(
  {
    id: Type.String({
      pattern: INSTANCE_ID.source,
      description: "Short id (a-z, 0-9) of this TV library, used in logs, the dashboard and the database.",
    }),
    instance: Type.Optional(
      Type.String({
        pattern: INSTANCE_ID.source,
        description: "The Stash instance whose scenes it shows (default: the first).",
      }),
    ),
    layout: Type.Union([Type.Literal("studio"), Type.Literal("group")], {
      default: "studio",
      description:
        "studio: a show per studio, a season per year of the scene's date (undated: Season 0); group: a show per Stash group, episodes numbered by the scene's index in the group.",
    }),
    parentStudio: Type.Boolean({
      default: false,
      description: "studio layout: a studio's scenes go to the show of its top parent studio (its network).",
    }),
    folder: Type.String({
      minLength: 1,
      description:
        "The episode folder stash2plex writes and keeps current (relative symlinks named Show/Season N/Show - SxxEyy - Title.ext), as Stash's paths name it. Must not lie inside a Stash library path.",
    }),
    plexFolder: Type.Optional(
      Type.String({
        minLength: 1,
        description: "The same folder as Plex sees it (default: mapped by the path rules).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type TvLibraryConfig = Static<typeof TvLibrarySchema>;

export const ConfigSchema = Type.Object({
  listen: Type.Object(
    {
      host: Type.String({ default: "0.0.0.0", description: "Address to listen on." }),
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 8787, description: "Port to listen on." }),
    },
    { default: {} },
  ),
  publicUrl: Type.String({
    default: "",
    description:
      "The base URL PMS uses to reach this service (image URLs are built on it). Default: http://<listen.host>:<port>.",
  }),
  dataDir: Type.String({ default: "./data", description: "Folder for the database (the container uses /config)." }),
  logLevel: LogLevel,
  logFormat: Type.Union([Type.Literal("auto"), Type.Literal("json"), Type.Literal("pretty")], {
    default: "auto",
    description: "auto: pretty on a terminal, JSON otherwise.",
  }),
  stash: Type.Object(
    {
      url: Url("Stash's base URL, e.g. http://stash:9999.", "http://localhost:9999"),
      apiKey: Secret("Stash API key (Settings → Security), empty when Stash has no login."),
      timeoutMs: Type.Integer({ ...STASH_TIMEOUT, default: 10000 }),
      instances: Type.Array(StashInstanceSchema, {
        default: [],
        description:
          "Several Stash instances, each its own provider in Plex (the first keeps the single-Stash URL and identifier; others are served at /instances/{id}). Each item: id (the first: default), name, url, apiKey, timeoutMs, paths, provider (any provider setting but identifier); unset ones come from the top-level settings (the first instance's url and apiKey from STASH_URL and STASH_API_KEY). In YAML: `stash:` as a list; in env: JSON. Empty: one Stash from stash.url.",
      }),
    },
    { default: {} },
  ),
  provider: ProviderSchema,
  paths: PathsSchema,
  plex: Type.Object(
    {
      url: Type.String({
        default: "",
        description: "PMS base URL for pushes, e.g. http://plex:32400. Empty: push off.",
      }),
      token: Secret("X-Plex-Token used for pushes."),
      timeoutMs: Type.Integer({
        minimum: 100,
        maximum: 120000,
        default: 15000,
        description: "Timeout of one Plex request.",
      }),
      sections: Type.Array(SectionSchema, {
        default: [],
        description:
          "Library sections to keep in sync, each with its push strategy and (several Stash instances) the instance it belongs to. Empty: every movie section. In env: JSON, or ids as 1,2, an id of another instance as <instance>:<id> (vault:3).",
      }),
      editFields: Type.Array(Type.Union(EDIT_FIELDS.map((f) => Type.Literal(f))), {
        default: [...EDIT_FIELDS],
        description: `Fields the edit strategy writes and locks (comma list in env): ${EDIT_FIELDS.join(", ")}.`,
      }),
      keepUserEdits: Type.Boolean({
        default: true,
        description: "edit strategy: leave a field alone when someone changed it in Plex after we last wrote it.",
      }),
      scanMissing: Type.Boolean({
        default: true,
        description: "Ask Plex to scan a scene's folder when its file is not in Plex yet.",
      }),
    },
    { default: {} },
  ),
  admin: Type.Object(
    {
      token: Secret(
        "Admin token for the dashboard and every action (API: Authorization: Bearer). Empty: one is generated on first start, shown once and kept in the data folder (admin-token).",
      ),
      readToken: Secret(
        "Read-only token for the Stash plugin's panel on each scene page: it reads one scene's state in Plex (GET /api/scene-status/{id}) and nothing else, so it is safe in a browser. Empty: the panel is off.",
      ),
      openReads: Type.Boolean({
        default: false,
        description:
          "Let anyone who reaches the service read the dashboard and /api/* without the admin token (actions still need it).",
      }),
      sessionIdleHours: Type.Number({
        minimum: 0.1,
        default: 168,
        description:
          "A dashboard sign-in unused this long ends (an open dashboard counts as used); every sign-in ends 30 days after it anyway.",
      }),
      trustedProxies: Type.Array(Type.String(), {
        default: [],
        description:
          "Your reverse proxies' addresses or networks (comma list in env, e.g. 172.17.0.0/16). A request from one of them is counted as the client its X-Forwarded-For names, for the sign-in throttle and the log; empty: the TCP peer, whatever a header says.",
      }),
    },
    { default: {} },
  ),
  reconcile: Type.Object(
    {
      everyHours: Type.Number({
        minimum: 0,
        default: 24,
        description:
          "How often the whole library is reconciled (gaps found and the safe kinds healed); 0 turns the schedule off.",
      }),
      afterStartMinutes: Type.Number({
        minimum: 0,
        default: 10,
        description: "A first reconcile this long after start-up; 0: none.",
      }),
      heal: Type.Array(Type.Union(HEALABLE_KINDS.map((k) => Type.Literal(k))), {
        default: [...SAFE_KINDS],
        description: "Gap kinds the scheduled reconcile heals (comma list in env); empty: report only.",
      }),
      scanStash: Type.Boolean({
        default: false,
        description:
          "Let a reconcile ask Stash to scan folders holding files Plex has and Stash does not (unknown-to-stash).",
      }),
    },
    { default: {} },
  ),
  backup: Type.Object(
    {
      everyHours: Type.Number({
        minimum: 0,
        default: 24,
        description:
          "How often the database is backed up into backups/ of the data folder (online, checked before it replaces the oldest); 0 turns the schedule off.",
      }),
      keep: Type.Integer({
        minimum: 1,
        default: 7,
        description: "How many scheduled backups are kept (the newest); on-demand ones are kept as many again.",
      }),
    },
    { default: {} },
  ),
  collections: CollectionsSchema,
  tv: Type.Object(
    {
      libraries: Type.Array(TvLibrarySchema, {
        default: [],
        description:
          "TV-style libraries (a studio or group is a show, a scene an episode), each with its own episode folder. In env: JSON. Empty: none.",
      }),
    },
    { default: {} },
  ),
  writeback: Type.Object(
    {
      enabled: Type.Boolean({
        default: false,
        description: "Carry what is watched and rated in Plex back to Stash (plays, resume points, ratings).",
      }),
      webhookToken: Secret(
        "Token of the Plex webhook URL (Plex Pass: Settings → Webhooks, add <this service>/hooks/plex?token=<token>). Empty: the Plex webhook is off; notifications and catch-up still work.",
      ),
      notifications: Type.Boolean({
        default: true,
        description:
          "Follow PMS's live notification stream and /status/sessions (works without Plex Pass) while write-back is on.",
      }),
      catchUpSeconds: Type.Integer({
        minimum: 0,
        default: 300,
        description:
          "How often Plex's watch history is read since the last entry seen, so viewings made while anything was down arrive; 0: only at start.",
      }),
      users: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        default: [],
        description:
          "Plex accounts whose watching and rating count, by account id or name (comma list in env). Empty: the server owner only.",
      }),
    },
    { default: {} },
  ),
  sync: Type.Object(
    {
      pollSeconds: Type.Integer({
        minimum: 0,
        default: 30,
        description: "How often Stash is polled for changed scenes; 0 turns polling off.",
      }),
      retryBaseSeconds: Type.Number({ minimum: 0.01, default: 5, description: "First retry delay." }),
      retryCapSeconds: Type.Number({ minimum: 0.01, default: 900, description: "Longest retry delay." }),
      maxAttempts: Type.Integer({
        minimum: 1,
        default: 50,
        description: "Attempts before a job becomes a dead letter.",
      }),
      maxAgeHours: Type.Number({
        minimum: 0.001,
        default: 168,
        description: "Age after which a failing job becomes a dead letter.",
      }),
      drainPerSecond: Type.Number({
        minimum: 0.1,
        default: 20,
        description: "Most pushes a second, so a backlog never floods Plex.",
      }),
      sweepSeconds: Type.Integer({ minimum: 1, default: 5, description: "How often the cron looks for due jobs." }),
      confirmSeconds: Type.Number({
        minimum: 0.1,
        default: 300,
        description: "After a refresh, how long to wait for PMS to fetch the metadata before pushing again.",
      }),
      webhookToken: Secret(
        "Optional token that opens only POST /hooks/stash, for the Stash plugin's Webhook token setting (the plugin works with the admin token alone; this one can do less). Empty: webhook off.",
      ),
    },
    { default: {} },
  ),
});

export type Config = Static<typeof ConfigSchema>;

/**
 * What we answer PMS, as TypeBox schemas: the provider contract
 * (../shared/plex/provider-contract.md) in code. Routes declare these as their response
 * schema and the PMS simulator validates our answers against them.
 */
import { Type, type Static } from "@sinclair/typebox";

const Tag = Type.Object({
  tag: Type.String(),
  role: Type.Optional(Type.String()),
  thumb: Type.Optional(Type.String()),
  order: Type.Optional(Type.Integer()),
});

export const PlexImage = Type.Object({
  type: Type.Union(
    ["coverPoster", "background", "backgroundSquare", "clearLogo", "snapshot"].map((t) => Type.Literal(t)),
  ),
  url: Type.String(),
  alt: Type.Optional(Type.String()),
});
export type PlexImage = Static<typeof PlexImage>;

export const RatingKey = Type.String({ pattern: "^[A-Za-z0-9_-]+$" });

export const PlexMetadata = Type.Object({
  ratingKey: RatingKey,
  key: Type.String(),
  guid: Type.String({
    pattern: "^tv\\.plex\\.agents\\.custom\\.[A-Za-z0-9.]+://(movie|collection|show|season|episode)/[A-Za-z0-9_-]+$",
  }),
  type: Type.Union([
    Type.Literal("movie"),
    Type.Literal("collection"),
    Type.Literal("show"),
    Type.Literal("season"),
    Type.Literal("episode"),
  ]),
  title: Type.String({ minLength: 1 }),
  originallyAvailableAt: Type.Optional(Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$" })),
  year: Type.Optional(Type.Integer()),
  score: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  summary: Type.Optional(Type.String()),
  studio: Type.Optional(Type.String()),
  tagline: Type.Optional(Type.String()),
  contentRating: Type.Optional(Type.String()),
  isAdult: Type.Optional(Type.Boolean()),
  duration: Type.Optional(Type.Integer()),
  thumb: Type.Optional(Type.String()),
  art: Type.Optional(Type.String()),
  addedAt: Type.Optional(Type.Integer()),
  childCount: Type.Optional(Type.Integer()),
  // A season or an episode names its parent (the show, the season); an episode its grandparent
  // (the show) too: Plex's provider docs mark these required for those types.
  parentRatingKey: Type.Optional(RatingKey),
  parentKey: Type.Optional(Type.String()),
  parentGuid: Type.Optional(Type.String()),
  parentType: Type.Optional(Type.Union([Type.Literal("show"), Type.Literal("season")])),
  parentTitle: Type.Optional(Type.String()),
  parentThumb: Type.Optional(Type.String()),
  grandparentRatingKey: Type.Optional(RatingKey),
  grandparentKey: Type.Optional(Type.String()),
  grandparentGuid: Type.Optional(Type.String()),
  grandparentType: Type.Optional(Type.Literal("show")),
  grandparentTitle: Type.Optional(Type.String()),
  grandparentThumb: Type.Optional(Type.String()),
  /** A season's number; an episode's number in its season. */
  index: Type.Optional(Type.Integer({ minimum: 0 })),
  /** An episode's season number. */
  parentIndex: Type.Optional(Type.Integer({ minimum: 0 })),
  leafCount: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * A show's seasons or a season's episodes, with `includeChildren=1`: every child, unpaged. Each
   * child is a metadata item of its own (the PMS simulator checks them one by one).
   */
  Children: Type.Optional(Type.Object({ size: Type.Integer({ minimum: 0 }), Metadata: Type.Array(Type.Unknown()) })),
  Image: Type.Optional(Type.Array(PlexImage)),
  Genre: Type.Optional(Type.Array(Tag)),
  Role: Type.Optional(Type.Array(Tag)),
  Director: Type.Optional(Type.Array(Tag)),
  Studio: Type.Optional(Type.Array(Tag)),
  Collection: Type.Optional(
    Type.Array(
      Type.Object({
        tag: Type.String(),
        guid: Type.Optional(Type.String()),
        key: Type.Optional(Type.String()),
        thumb: Type.Optional(Type.String()),
        summary: Type.Optional(Type.String()),
      }),
    ),
  ),
  Guid: Type.Optional(Type.Array(Type.Object({ id: Type.String({ pattern: "^[a-z0-9.+-]+://.+" }) }))),
  Rating: Type.Optional(
    Type.Array(
      Type.Object({
        image: Type.String(),
        type: Type.Union([Type.Literal("audience"), Type.Literal("critic")]),
        value: Type.Number({ minimum: 0, maximum: 10 }),
      }),
    ),
  ),
  Chapter: Type.Optional(
    Type.Array(
      Type.Object({
        tag: Type.String(),
        index: Type.Integer(),
        startTimeOffset: Type.Integer(),
        endTimeOffset: Type.Integer(),
      }),
    ),
  ),
});
export type PlexMetadata = Static<typeof PlexMetadata>;

export const MediaContainer = Type.Object({
  MediaContainer: Type.Object({
    offset: Type.Integer({ minimum: 0 }),
    totalSize: Type.Integer({ minimum: 0 }),
    size: Type.Integer({ minimum: 0 }),
    identifier: Type.String(),
    Metadata: Type.Optional(Type.Array(PlexMetadata)),
    Image: Type.Optional(Type.Array(PlexImage)),
  }),
});
export type MediaContainer = Static<typeof MediaContainer>;

export const MediaProvider = Type.Object({
  MediaProvider: Type.Object({
    identifier: Type.String({ pattern: "^tv\\.plex\\.agents\\.custom\\.[A-Za-z0-9.]+$" }),
    title: Type.String(),
    version: Type.String(),
    Types: Type.Array(
      Type.Object({
        type: Type.Integer(),
        Scheme: Type.Array(Type.Object({ scheme: Type.String() })),
      }),
    ),
    Feature: Type.Array(Type.Object({ type: Type.String(), key: Type.String() })),
  }),
});

/** The body PMS posts to the match feature; every field but type may be missing. */
export const MatchRequest = Type.Object({
  type: Type.Union([Type.Integer(), Type.String({ pattern: "^[0-9]+$" })]),
  title: Type.Optional(Type.String()),
  year: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  filename: Type.Optional(Type.String()),
  guid: Type.Optional(Type.String()),
  // TV: a season's show, an episode's show; season and episode numbers; an air date; whether a
  // show or season answer should carry its Children.
  parentTitle: Type.Optional(Type.String()),
  grandparentTitle: Type.Optional(Type.String()),
  index: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  parentIndex: Type.Optional(Type.Union([Type.Integer(), Type.String()])),
  date: Type.Optional(Type.String()),
  includeChildren: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Boolean()])),
  manual: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Boolean()])),
  includeAdult: Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Boolean()])),
});
export type MatchRequest = Static<typeof MatchRequest>;

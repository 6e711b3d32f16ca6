/**
 * TypeBox schemas of what we read from Stash. Every answer is decoded through these, so a
 * malformed or changed Stash answer is a clear error at the edge, never an `undefined` deep
 * inside the mapping code. Field names are Stash's own (see ../shared/stash-schema).
 */
import { Type, type Static } from "@sinclair/typebox";

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableString = Type.Optional(Nullable(Type.String()));
const NullableNumber = Type.Optional(Type.Union([Type.Number(), Type.Null()]));

export const StashFile = Type.Object({
  id: Type.String(),
  path: Type.String(),
  basename: Type.String(),
  duration: Type.Number(),
  width: Type.Optional(Type.Number()),
  height: Type.Optional(Type.Number()),
});

export const StashTag = Type.Object({ id: Type.String(), name: Type.String() });

export const StashStudio = Type.Object({
  id: Type.String(),
  name: Type.String(),
  image_path: NullableString,
  parent_studio: Type.Optional(Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()])),
});

export const StashPerformer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  disambiguation: NullableString,
  image_path: NullableString,
});

export const StashGroup = Type.Object({
  id: Type.String(),
  name: Type.String(),
  synopsis: NullableString,
  date: NullableString,
  front_image_path: NullableString,
  director: NullableString,
});

export const StashMarker = Type.Object({
  id: Type.String(),
  title: Type.String(),
  seconds: Type.Number(),
  end_seconds: NullableNumber,
  primary_tag: Type.Object({ name: Type.String() }),
});

export const StashScene = Type.Object({
  id: Type.String(),
  title: NullableString,
  code: NullableString,
  details: NullableString,
  director: NullableString,
  urls: Type.Array(Type.String()),
  date: NullableString,
  rating100: NullableNumber,
  organized: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
  files: Type.Array(StashFile),
  paths: Type.Object({ screenshot: NullableString }),
  studio: Type.Union([StashStudio, Type.Null()]),
  performers: Type.Array(StashPerformer),
  tags: Type.Array(StashTag),
  groups: Type.Array(Type.Object({ scene_index: NullableNumber, group: StashGroup })),
  scene_markers: Type.Array(StashMarker),
  stash_ids: Type.Array(Type.Object({ endpoint: Type.String(), stash_id: Type.String() })),
});
export type StashScene = Static<typeof StashScene>;
export type StashGroup = Static<typeof StashGroup>;

/** The slim shape used to enumerate the library and index files by path. */
export const StashSceneFiles = Type.Object({
  id: Type.String(),
  title: NullableString,
  date: NullableString,
  updated_at: Type.String(),
  studio: Type.Optional(Type.Union([Type.Object({ name: Type.String() }), Type.Null()])),
  // Size (bytes), duration (s) and oshash: a Plex file whose name tells nothing is found by them (identity.ts).
  files: Type.Array(
    Type.Object({
      path: Type.String(),
      size: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
      duration: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      oshash: Type.Optional(NullableString),
    }),
  ),
  // For the match gates (provider.matchOnly).
  organized: Type.Optional(Type.Boolean()),
  urls: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  stash_ids: Type.Optional(Type.Array(Type.Object({ stash_id: Type.String() }))),
});
export type StashSceneFiles = Static<typeof StashSceneFiles>;

export const FindScenesAnswer = Type.Object({
  findScenes: Type.Object({ count: Type.Integer(), scenes: Type.Array(StashScene) }),
});
export const FindSceneFilesAnswer = Type.Object({
  findScenes: Type.Object({ count: Type.Integer(), scenes: Type.Array(StashSceneFiles) }),
});
export const FindGroupsAnswer = Type.Object({
  findGroups: Type.Object({
    count: Type.Integer(),
    groups: Type.Array(Type.Intersect([StashGroup, Type.Object({ scene_count: Type.Integer() })])),
  }),
});
/** A studio as a TV show presents it: its description and image (FIND_SCENE_STUDIO). */
const DescribedStudio = {
  id: Type.String(),
  name: Type.String(),
  details: NullableString,
  image_path: NullableString,
};
export const FindSceneStudioAnswer = Type.Object({
  findScenes: Type.Object({
    scenes: Type.Array(
      Type.Object({
        id: Type.String(),
        studio: Type.Union([
          Type.Object({
            ...DescribedStudio,
            parent_studio: Type.Optional(Type.Union([Type.Object(DescribedStudio), Type.Null()])),
          }),
          Type.Null(),
        ]),
      }),
    ),
  }),
});
export type StashDescribedStudio = Static<typeof FindSceneStudioAnswer>["findScenes"]["scenes"][number]["studio"];
/** What a TV-style library needs of a scene to place it (src/tv/): its studio, groups, date and files. */
export const StashTvScene = Type.Object({
  id: Type.String(),
  title: NullableString,
  date: NullableString,
  studio: Type.Union([
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      parent_studio: Type.Optional(Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()])),
    }),
    Type.Null(),
  ]),
  groups: Type.Array(
    Type.Object({ scene_index: NullableNumber, group: Type.Object({ id: Type.String(), name: Type.String() }) }),
  ),
  files: Type.Array(Type.Object({ path: Type.String() })),
});
export type StashTvScene = Static<typeof StashTvScene>;
export const FindTvScenesAnswer = Type.Object({
  findScenes: Type.Object({ count: Type.Integer(), scenes: Type.Array(StashTvScene) }),
});
/** Stash's library folders (Settings → Library), which a TV library's episode folder must stay out of. */
export const StashLibrariesAnswer = Type.Object({
  configuration: Type.Object({
    general: Type.Object({ stashes: Type.Array(Type.Object({ path: Type.String() })) }),
  }),
});
/** A scene's plays, resume point and rating (write-back); times are Stash's RFC 3339 text. */
export const StashSceneActivity = Type.Object({
  id: Type.String(),
  rating100: NullableNumber,
  resume_time: NullableNumber,
  play_duration: NullableNumber,
  play_count: NullableNumber,
  last_played_at: NullableString,
  play_history: Type.Array(Type.String()),
});
export type StashSceneActivity = Static<typeof StashSceneActivity>;
export const SceneActivityAnswer = Type.Object({
  findScenes: Type.Object({ scenes: Type.Array(StashSceneActivity) }),
});
export const SceneAddPlayAnswer = Type.Object({
  sceneAddPlay: Type.Object({ count: Type.Integer(), history: Type.Array(Type.String()) }),
});
export const SceneSaveActivityAnswer = Type.Object({ sceneSaveActivity: Type.Boolean() });
export const SceneSetRatingAnswer = Type.Object({
  sceneUpdate: Type.Union([
    Type.Object({ id: Type.String(), rating100: NullableNumber, updated_at: Type.String() }),
    Type.Null(),
  ]),
});
export const MetadataScanAnswer = Type.Object({ metadataScan: Type.Union([Type.String(), Type.Number()]) });
export const VersionAnswer = Type.Object({ version: Type.Object({ version: NullableString }) });

/** What a scene's collections are made of (FIND_COLLECTION_SCENES): ids only. */
const IdOnly = Type.Object({ id: Type.String() });
export const CollectionScene = Type.Object({
  id: Type.String(),
  studio: Type.Union([
    Type.Object({ id: Type.String(), parent_studio: Type.Union([IdOnly, Type.Null()]) }),
    Type.Null(),
  ]),
  groups: Type.Array(Type.Object({ scene_index: Type.Union([Type.Integer(), Type.Null()]), group: IdOnly })),
  performers: Type.Array(IdOnly),
  tags: Type.Array(IdOnly),
});
export type StashCollectionScene = Static<typeof CollectionScene>;
export const FindCollectionScenesAnswer = Type.Object({
  findScenes: Type.Object({ count: Type.Integer(), scenes: Type.Array(CollectionScene) }),
});
/** A thing a collection is named after, with its text and image (studio, performer, tag). */
const Described = {
  id: Type.String(),
  name: Type.String(),
  image_path: NullableString,
};
export const FindStudiosAnswer = Type.Object({
  findStudios: Type.Object({
    count: Type.Integer(),
    studios: Type.Array(
      Type.Object({ ...Described, details: NullableString, parent_studio: Type.Union([IdOnly, Type.Null()]) }),
    ),
  }),
});
export const FindPerformersAnswer = Type.Object({
  findPerformers: Type.Object({
    count: Type.Integer(),
    performers: Type.Array(Type.Object({ ...Described, details: NullableString })),
  }),
});
export const FindTagsAnswer = Type.Object({
  findTags: Type.Object({
    count: Type.Integer(),
    tags: Type.Array(Type.Object({ ...Described, description: NullableString, parents: Type.Array(IdOnly) })),
  }),
});

const Stamped = Type.Array(Type.Object({ updated_at: Type.String() }));
export const NewestCollectionThingsAnswer = Type.Object({
  studios: Type.Object({ studios: Stamped }),
  groups: Type.Object({ groups: Stamped }),
  performers: Type.Object({ performers: Stamped }),
  tags: Type.Object({ tags: Stamped }),
  scenes: Type.Object({ count: Type.Integer() }),
});

/**
 * Every GraphQL document the Stash client can send. Kept together so the conformance test
 * can validate each one against Stash's real schema (../shared/stash-schema).
 */
const SCENE_FIELDS = /* GraphQL */ `
  fragment SceneFields on Scene {
    id title code details director urls date rating100 organized created_at updated_at
    files { id path basename duration width height }
    paths { screenshot }
    studio { id name image_path parent_studio { id name } }
    performers { id name disambiguation image_path }
    tags { id name }
    groups { scene_index group { id name synopsis date front_image_path director } }
    scene_markers { id title seconds end_seconds primary_tag { name } }
    stash_ids { endpoint stash_id }
  }`;

export const FIND_SCENES = /* GraphQL */ `
  query FindScenes($ids: [ID!], $scene_filter: SceneFilterType, $filter: FindFilterType) {
    findScenes(ids: $ids, scene_filter: $scene_filter, filter: $filter) {
      count
      scenes { ...SceneFields }
    }
  }
  ${SCENE_FIELDS}`;

export const FIND_SCENE_FILES = /* GraphQL */ `
  query FindSceneFiles($scene_filter: SceneFilterType, $filter: FindFilterType) {
    findScenes(scene_filter: $scene_filter, filter: $filter) {
      count
      scenes {
        id title date updated_at organized urls stash_ids { stash_id } studio { name }
        files { path size duration oshash: fingerprint(type: "oshash") }
      }
    }
  }`;

/** A scene's studio and its parent, each with its description and image (a TV show's summary and poster). */
export const FIND_SCENE_STUDIO = /* GraphQL */ `
  query FindSceneStudio($ids: [ID!], $filter: FindFilterType) {
    findScenes(ids: $ids, filter: $filter) {
      scenes { id studio { id name details image_path parent_studio { id name details image_path } } }
    }
  }`;

export const FIND_GROUPS = /* GraphQL */ `
  query FindGroups($ids: [ID!], $filter: FindFilterType) {
    findGroups(ids: $ids, filter: $filter) {
      count
      groups { id name synopsis date front_image_path director scene_count }
    }
  }`;

export const FIND_TV_SCENES = /* GraphQL */ `
  query FindTvScenes($ids: [ID!], $filter: FindFilterType) {
    findScenes(ids: $ids, filter: $filter) {
      count
      scenes {
        id title date
        studio { id name parent_studio { id name } }
        groups { scene_index group { id name } }
        files { path }
      }
    }
  }`;

/** One page of every scene with what its collections are made of (collections/kinds.ts), oldest id first. */
export const FIND_COLLECTION_SCENES = /* GraphQL */ `
  query FindCollectionScenes($ids: [ID!], $filter: FindFilterType) {
    findScenes(ids: $ids, filter: $filter) {
      count
      scenes {
        id
        studio { id parent_studio { id } }
        groups { scene_index group { id } }
        performers { id }
        tags { id }
      }
    }
  }`;

/** Every studio with its description, image and parent (a parent studio is a network collection). */
export const FIND_STUDIOS = /* GraphQL */ `
  query FindStudios($filter: FindFilterType) {
    findStudios(filter: $filter) {
      count
      studios { id name details image_path parent_studio { id } }
    }
  }`;

/** The performers with at least so many scenes (a performer collection's threshold). */
export const FIND_PERFORMERS = /* GraphQL */ `
  query FindPerformers($performer_filter: PerformerFilterType, $filter: FindFilterType) {
    findPerformers(performer_filter: $performer_filter, filter: $filter) {
      count
      performers { id name details image_path }
    }
  }`;

/** Every tag with its description, image and parents (tag collections: named ones, or a parent's children). */
export const FIND_TAGS = /* GraphQL */ `
  query FindTags($filter: FindFilterType) {
    findTags(filter: $filter) {
      count
      tags { id name description image_path parents { id } }
    }
  }`;

/**
 * When a studio, group, performer or tag was last edited (each kind's newest updated_at), and
 * how many scenes there are: a rename changes no scene and a deletion leaves no stamp, so the
 * collections' watch asks this instead (one request, a row each).
 */
export const NEWEST_COLLECTION_THINGS = /* GraphQL */ `
  query NewestCollectionThings {
    studios: findStudios(filter: { per_page: 1, sort: "updated_at", direction: DESC }) { studios { updated_at } }
    groups: findGroups(filter: { per_page: 1, sort: "updated_at", direction: DESC }) { groups { updated_at } }
    performers: findPerformers(filter: { per_page: 1, sort: "updated_at", direction: DESC }) { performers { updated_at } }
    tags: findTags(filter: { per_page: 1, sort: "updated_at", direction: DESC }) { tags { updated_at } }
    scenes: findScenes(filter: { per_page: 0 }) { count }
  }`;

export const STASH_LIBRARIES = /* GraphQL */ `
  query StashLibraries { configuration { general { stashes { path } } } }`;

export const METADATA_SCAN = /* GraphQL */ `
  mutation MetadataScan($input: ScanMetadataInput!) { metadataScan(input: $input) }`;

export const VERSION = /* GraphQL */ `
  query Version { version { version } }`;

/** Write-back (Plex → Stash): what a scene's plays, resume point and rating are now. */
export const SCENE_ACTIVITY = /* GraphQL */ `
  query SceneActivity($ids: [ID!]) {
    findScenes(ids: $ids, filter: { per_page: -1 }) {
      scenes { id rating100 resume_time play_duration play_count last_played_at play_history }
    }
  }`;

export const SCENE_ADD_PLAY = /* GraphQL */ `
  mutation SceneAddPlay($id: ID!, $times: [Timestamp!]) { sceneAddPlay(id: $id, times: $times) { count history } }`;

export const SCENE_SAVE_ACTIVITY = /* GraphQL */ `
  mutation SceneSaveActivity($id: ID!, $resume_time: Float, $playDuration: Float) {
    sceneSaveActivity(id: $id, resume_time: $resume_time, playDuration: $playDuration)
  }`;

export const SCENE_SET_RATING = /* GraphQL */ `
  mutation SceneSetRating($input: SceneUpdateInput!) { sceneUpdate(input: $input) { id rating100 updated_at } }`;

export const ALL_DOCUMENTS = {
  SCENE_ACTIVITY,
  SCENE_ADD_PLAY,
  SCENE_SAVE_ACTIVITY,
  SCENE_SET_RATING,
  FIND_SCENES,
  FIND_SCENE_FILES,
  FIND_GROUPS,
  FIND_SCENE_STUDIO,
  FIND_TV_SCENES,
  FIND_COLLECTION_SCENES,
  FIND_STUDIOS,
  FIND_PERFORMERS,
  FIND_TAGS,
  NEWEST_COLLECTION_THINGS,
  STASH_LIBRARIES,
  METADATA_SCAN,
  VERSION,
};

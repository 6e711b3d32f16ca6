/**
 * The Stash GraphQL client: everything that calls Stash goes through here. Answers are
 * decoded through TypeBox; failures become one of three StashError kinds; concurrent
 * lookups by id are coalesced into one `findScenes(ids:)` query.
 */
import { ClientError, GraphQLClient } from "graphql-request";
import type { Static, TSchema } from "@sinclair/typebox";
import { decode } from "../schema/decode.ts";
import {
  FindCollectionScenesAnswer,
  FindPerformersAnswer,
  FindStudiosAnswer,
  FindTagsAnswer,
  NewestCollectionThingsAnswer,
  FindGroupsAnswer,
  FindSceneFilesAnswer,
  FindScenesAnswer,
  FindSceneStudioAnswer,
  FindTvScenesAnswer,
  MetadataScanAnswer,
  SceneActivityAnswer,
  SceneAddPlayAnswer,
  SceneSaveActivityAnswer,
  SceneSetRatingAnswer,
  StashLibrariesAnswer,
  VersionAnswer,
  type StashDescribedStudio,
  type StashGroup,
  type StashScene,
  type StashSceneFiles,
  type StashTvScene,
  type StashCollectionScene,
  type StashSceneActivity,
} from "../schema/stash.ts";
import {
  FIND_COLLECTION_SCENES,
  FIND_PERFORMERS,
  FIND_STUDIOS,
  FIND_TAGS,
  NEWEST_COLLECTION_THINGS,
  FIND_GROUPS,
  FIND_SCENE_FILES,
  FIND_SCENES,
  FIND_SCENE_STUDIO,
  FIND_TV_SCENES,
  METADATA_SCAN,
  SCENE_ACTIVITY,
  SCENE_ADD_PLAY,
  SCENE_SAVE_ACTIVITY,
  SCENE_SET_RATING,
  STASH_LIBRARIES,
  VERSION,
} from "./queries.ts";
import { StashError } from "./errors.ts";
import { createBatcher } from "./batcher.ts";
import { createRedactor, urlSecrets, withoutCredentials, type Redact } from "../redact.ts";

export interface StashClientOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
  /** How long concurrent id lookups wait to be sent together. */
  batchWindowMs?: number;
  /** Told of every call's duration and outcome (metrics). */
  observe?: (upstream: "stash", seconds: number, ok: boolean) => void;
}

export interface StashPage<T> {
  count: number;
  items: T[];
}

export type StashClient = ReturnType<typeof createStashClient>;

function decodeAnswer<T extends TSchema>(schema: T, data: unknown, what: string, redact: Redact): Static<T> {
  const result = decode(schema, data);
  if (result.ok) return result.value;
  throw new StashError("query", redact(`Stash answered ${what} in an unexpected shape: ${result.problem}`));
}

export function createStashClient(options: StashClientOptions) {
  const endpoint = `${options.url}/graphql`;
  // Stash, or a proxy in front of it, may echo the key (or URL credentials) in an error page:
  // every message built from its answers is cleaned here, before anyone stores or shows it.
  const redact = createRedactor([options.apiKey, ...urlSecrets(options.url)]);
  const headers: Record<string, string> = options.apiKey ? { ApiKey: options.apiKey } : {};
  const gql = new GraphQLClient(endpoint, {
    headers,
    fetch: Object.assign(
      (input: string | URL | Request, init?: RequestInit) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(options.timeoutMs) }),
      { preconnect: fetch.preconnect },
    ),
  });

  async function request<T extends TSchema>(
    what: string,
    document: string,
    variables: Record<string, unknown>,
    schema: T,
  ): Promise<Static<T>> {
    let data: unknown;
    const started = performance.now();
    try {
      data = await gql.request(document, variables);
      options.observe?.("stash", (performance.now() - started) / 1000, true);
    } catch (err) {
      options.observe?.("stash", (performance.now() - started) / 1000, false);
      throw classify(err, what, options, redact);
    }
    return decodeAnswer(schema, data, what, redact);
  }

  const findScenes = async (what: string, variables: Record<string, unknown>): Promise<StashPage<StashScene>> => {
    const answer = await request(what, FIND_SCENES, variables, FindScenesAnswer);
    return { count: answer.findScenes.count, items: answer.findScenes.scenes };
  };

  const byId = createBatcher<string, StashScene>({
    windowMs: options.batchWindowMs ?? 4,
    maxBatch: 200,
    async load(ids) {
      const page = await findScenes("scenes by id", { ids, filter: { per_page: -1 } });
      return new Map(page.items.map((s) => [s.id, s]));
    },
  });

  return {
    sceneById: (id: string): Promise<StashScene | undefined> => byId.load(id),
    async scenesByIds(ids: string[]): Promise<StashScene[]> {
      const found = await Promise.all(ids.map((id) => byId.load(id)));
      return found.filter((s): s is StashScene => s !== undefined);
    },
    async sceneByPath(path: string): Promise<StashScene | undefined> {
      const page = await findScenes("scene by path", {
        scene_filter: { path: { value: path, modifier: "EQUALS" } },
        filter: { per_page: 2 },
      });
      return page.items.find((s) => s.files.some((f) => f.path === path));
    },
    async scenesByBasename(basename: string, limit = 10): Promise<StashScene[]> {
      const page = await findScenes("scenes by file name", {
        scene_filter: { files_filter: { basename: { value: basename, modifier: "EQUALS" } } },
        filter: { per_page: limit },
      });
      return page.items;
    },
    /** Stash's own search box: scenes with ANY of the words in title, details, code or path. */
    async searchScenes(text: string, limit = 25): Promise<StashScene[]> {
      const page = await findScenes("scene search", { filter: { q: text, per_page: limit } });
      return page.items;
    },
    /** Scenes whose title holds EVERY one of the words (nested AND of per-word INCLUDES). */
    async scenesWithTitleWords(words: string[], limit = 25): Promise<StashScene[]> {
      if (words.length === 0) return [];
      const filter = words.reduceRight<Record<string, unknown> | undefined>(
        (rest, word) => ({ title: { value: word, modifier: "INCLUDES" }, ...(rest ? { AND: rest } : {}) }),
        undefined,
      );
      const page = await findScenes("scene search by title", { scene_filter: filter, filter: { per_page: limit } });
      return page.items;
    },
    /** One page of every scene with everything the metadata needs, oldest id first (reconcile). */
    scenesPage: (page: number, perPage: number): Promise<StashPage<StashScene>> =>
      findScenes("scenes page", { filter: { page, per_page: perPage, sort: "id", direction: "ASC" } }),
    /** Asks Stash to scan these paths for new files (a job in Stash; returns its id). */
    async metadataScan(paths: string[]): Promise<string> {
      const answer = await request("metadata scan", METADATA_SCAN, { input: { paths } }, MetadataScanAnswer);
      return String(answer.metadataScan);
    },
    /** One page of every scene with its file paths, oldest id first. */
    async sceneFilesPage(page: number, perPage: number): Promise<StashPage<StashSceneFiles>> {
      const answer = await request(
        "scene files",
        FIND_SCENE_FILES,
        {
          filter: { page, per_page: perPage, sort: "id", direction: "ASC" },
        },
        FindSceneFilesAnswer,
      );
      return { count: answer.findScenes.count, items: answer.findScenes.scenes };
    },
    /**
     * Every scene whose updated_at lies above `after` (and below `before`) in Stash's TEXT order:
     * bounds are wall-clock strings in the server's terms (see stamps.ts). Slim rows, one answer.
     */
    async scenesStampedBetween(after: string, before?: string): Promise<StashSceneFiles[]> {
      const above = { updated_at: { value: after, modifier: "GREATER_THAN" } };
      const scene_filter = before ? { ...above, AND: { updated_at: { value: before, modifier: "LESS_THAN" } } } : above;
      const answer = await request(
        "changed scenes",
        FIND_SCENE_FILES,
        {
          scene_filter,
          filter: { per_page: -1, sort: "updated_at", direction: "ASC" },
        },
        FindSceneFilesAnswer,
      );
      return answer.findScenes.scenes;
    },
    /** Scenes stamped exactly `stamp` (count, and up to `limit` of them; -1 for all). */
    async scenesStampedAt(stamp: string, limit: number): Promise<StashPage<StashSceneFiles>> {
      const answer = await request(
        "scenes of one second",
        FIND_SCENE_FILES,
        {
          scene_filter: { updated_at: { value: stamp, modifier: "EQUALS" } },
          filter: { page: 1, per_page: limit, sort: "id" },
        },
        FindSceneFilesAnswer,
      );
      return { count: answer.findScenes.count, items: answer.findScenes.scenes };
    },
    /** The greatest updated_at in Stash's text order (undefined for an empty library). */
    async newestStamp(): Promise<string | undefined> {
      const answer = await request(
        "newest change",
        FIND_SCENE_FILES,
        {
          filter: { page: 1, per_page: 1, sort: "updated_at", direction: "DESC" },
        },
        FindSceneFilesAnswer,
      );
      return answer.findScenes.scenes[0]?.updated_at;
    },
    async groups(ids: string[] | undefined, page = 1, perPage = 100) {
      const answer = await request(
        "groups",
        FIND_GROUPS,
        { ids, filter: { page, per_page: perPage, sort: "name" } },
        FindGroupsAnswer,
      );
      return {
        count: answer.findGroups.count,
        items: answer.findGroups.groups as (StashGroup & { scene_count: number })[],
      };
    },
    /** A scene's studio and its parent studio, with their descriptions and images (null: no studio or no scene). */
    async studioOfScene(id: string): Promise<StashDescribedStudio> {
      const answer = await request(
        "a scene's studio",
        FIND_SCENE_STUDIO,
        { ids: [id], filter: { per_page: 1 } },
        FindSceneStudioAnswer,
      );
      return answer.findScenes.scenes.find((s) => s.id === id)?.studio ?? null;
    },
    /** One page of every scene with what a TV library places it by (studio, groups, date, files), oldest id first. */
    async tvScenesPage(page: number, perPage: number): Promise<StashPage<StashTvScene>> {
      const answer = await request(
        "scenes for TV libraries",
        FIND_TV_SCENES,
        { filter: { page, per_page: perPage, sort: "id", direction: "ASC" } },
        FindTvScenesAnswer,
      );
      return { count: answer.findScenes.count, items: answer.findScenes.scenes };
    },
    /** One page of every scene (or of these ids) with what its collections are made of, oldest id first. */
    async collectionScenesPage(
      page: number,
      perPage: number,
      ids?: string[],
    ): Promise<StashPage<StashCollectionScene>> {
      const answer = await request(
        "scenes for collections",
        FIND_COLLECTION_SCENES,
        { ids, filter: { page, per_page: perPage, sort: "id", direction: "ASC" } },
        FindCollectionScenesAnswer,
      );
      return { count: answer.findScenes.count, items: answer.findScenes.scenes };
    },
    /** Every studio, with its details, image and parent. */
    async studios() {
      const all = { filter: { per_page: -1, sort: "id" } };
      return (await request("studios", FIND_STUDIOS, all, FindStudiosAnswer)).findStudios.studios;
    },
    /** The performers with at least `minScenes` scenes, with their details and image. */
    async performersWithScenes(minScenes: number) {
      const variables = {
        performer_filter: { scene_count: { value: minScenes - 1, modifier: "GREATER_THAN" } },
        filter: { per_page: -1, sort: "id" },
      };
      return (await request("performers", FIND_PERFORMERS, variables, FindPerformersAnswer)).findPerformers.performers;
    },
    /** Every tag, with its description, image and parents. */
    async tags() {
      const all = { filter: { per_page: -1, sort: "id" } };
      return (await request("tags", FIND_TAGS, all, FindTagsAnswer)).findTags.tags;
    },
    /** Each kind's newest edit (studios, groups, performers, tags) and the scene count as one text: it changes when any of them is edited, or a scene deleted. */
    async newestThingStamps(): Promise<string> {
      const a = await request(
        "newest studio, group, performer and tag",
        NEWEST_COLLECTION_THINGS,
        {},
        NewestCollectionThingsAnswer,
      );
      return [a.studios.studios, a.groups.groups, a.performers.performers, a.tags.tags]
        .map((list) => list[0]?.updated_at ?? "")
        .concat(String(a.scenes.count))
        .join("|");
    },
    /** Stash's library folders (the paths it scans). */
    async libraryPaths(): Promise<string[]> {
      const answer = await request("library folders", STASH_LIBRARIES, {}, StashLibrariesAnswer);
      return answer.configuration.general.stashes.map((s) => s.path);
    },
    /** Write-back: a scene's plays, resume point and rating now (undefined: no such scene). */
    async sceneActivity(id: string): Promise<StashSceneActivity | undefined> {
      const answer = await request("scene activity", SCENE_ACTIVITY, { ids: [id] }, SceneActivityAnswer);
      return answer.findScenes.scenes.find((s) => s.id === id);
    },
    /** Write-back: one play at `atMs` (Stash keeps it to the second); answers the play count. */
    async addPlay(id: string, atMs: number): Promise<number> {
      const times = [new Date(atMs).toISOString()];
      const answer = await request("adding a play", SCENE_ADD_PLAY, { id, times }, SceneAddPlayAnswer);
      return answer.sceneAddPlay.count;
    },
    /**
     * Write-back: the resume point in seconds (0 clears it; null leaves it); `playedSeconds` is
     * ADDED to the time played (Stash's play_duration), so the caller sends it once.
     */
    async saveActivity(id: string, resumeSeconds: number | null, playedSeconds?: number): Promise<void> {
      await request(
        "saving the resume point",
        SCENE_SAVE_ACTIVITY,
        { id, resume_time: resumeSeconds, playDuration: playedSeconds ?? null },
        SceneSaveActivityAnswer,
      );
    },
    /** Write-back: the scene's rating (1–100; null clears it). This moves updated_at and fires Stash's hook. */
    async setRating(id: string, rating100: number | null): Promise<void> {
      await request("setting the rating", SCENE_SET_RATING, { input: { id, rating100 } }, SceneSetRatingAnswer);
    },
    async version(): Promise<string> {
      const answer = await request("version", VERSION, {}, VersionAnswer);
      return answer.version.version ?? "unknown";
    },
    /** Fetches one of Stash's image routes with the API key PMS cannot send. */
    async image(path: string): Promise<Response> {
      try {
        return await fetch(`${options.url}${path}`, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        throw classify(err, "image", options, redact);
      }
    },
  };
}

function classify(err: unknown, what: string, options: StashClientOptions, redact: Redact): StashError {
  const e = describe(err, what, options);
  return new StashError(e.kind, redact(e.message));
}

function describe(
  err: unknown,
  what: string,
  options: StashClientOptions,
): { kind: StashError["kind"]; message: string } {
  const fail = (kind: StashError["kind"], message: string) => ({ kind, message });
  if (err instanceof ClientError) {
    const status = err.response.status;
    if (status === 401 || status === 403) {
      return fail("unauthorised", `Stash refused ${what} (HTTP ${status}): check the Stash API key (STASH_API_KEY)`);
    }
    if (status >= 500 || status === 429 || status === 408)
      return fail("unavailable", `Stash failed ${what} (HTTP ${status})`);
    const messages = err.response.errors?.map((x) => String(x.message).slice(0, 300)).join("; ");
    return fail("query", `Stash rejected ${what}: ${messages || `HTTP ${status}`}`);
  }
  const e = err as Error;
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return fail("unavailable", `Stash did not answer ${what} within ${options.timeoutMs} ms`);
  }
  const reason = String(e?.message ?? err).slice(0, 300);
  return fail("unavailable", `cannot reach Stash at ${withoutCredentials(options.url)} for ${what} (${reason})`);
}

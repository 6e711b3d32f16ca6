/**
 * What PMS calls: discovery (`{URL}?includePreferences=1`, with or without a slash before the
 * `?`), match, metadata, images, extras, collections, and the image proxy.
 * Thin routes over the pure mapping and the match ladder. Status codes follow the provider
 * contract: match never fails (an empty container instead), metadata answers 503 when Stash
 * is down so PMS keeps what it has, and 404 only when Stash says the scene is gone.
 */
import type { MatchDeps } from "./match.ts";
import { Elysia } from "elysia";
import { MatchRequest } from "../schema/plex.ts";
import { HttpError } from "../http.ts";
import { guardedJson } from "../json-body.ts";
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import type { FileIndex } from "../stash/file-index.ts";
import type { PathMapper } from "../paths/mapper.ts";
import { isStashError } from "../stash/errors.ts";
import { mediaContainer, readPaging } from "./envelope.ts";
import { matchScenes } from "./match.ts";
import { groupToMetadata, sceneImages, sceneToMetadata, type MetadataContext } from "./metadata.ts";
import { isImageKind, proxyImage } from "./images.ts";
import type { MatchGate } from "./gates.ts";
import { VERSION } from "../version.ts";
import { sceneRef, type Ref } from "../domain/ref.ts";
import { callerOf, type Caller } from "../plex/caller.ts";

export interface ProviderDeps {
  stash: StashClient;
  index: FileIndex;
  mapper: PathMapper;
  ctx: MetadataContext;
  title: string;
  log: Logger;
  /** What an automatic match may claim (provider.matchOnly). */
  matchOnly?: readonly MatchGate[];
  /** Fix Match: scenes a file may be by its size and duration or fingerprint (MatchDeps.byIdentity). */
  byIdentity?: MatchDeps["byIdentity"];
  /**
   * Told each time a scene's metadata has been sent, with who asked (its X-Plex-Client-Identifier
   * and User-Agent: PMS's machine identifier and PlexMediaServer/… when PMS fetches it): a fetch
   * by the PMS a push went to confirms that push. The reference names this provider's Stash instance.
   */
  onServed?: (ref: Ref, caller: Caller) => void;
}

const RATING_KEY = /^[A-Za-z0-9_-]+$/;
const SCENE_KEY = /^\d{1,18}$/;
const COLLECTION_KEY = /^g(\d{1,18})$/;

function checkRatingKey(key: unknown): asserts key is string {
  // A key that is not valid percent-encoding (`%ZZ`) reaches us as null.
  if (typeof key !== "string" || !RATING_KEY.test(key)) {
    throw new HttpError(400, "bad_rating_key", "ratingKey may hold only ASCII letters, digits, '-' and '_'");
  }
}

async function sceneOr404(stash: StashClient, key: unknown) {
  checkRatingKey(key);
  const scene = SCENE_KEY.test(key) ? await stash.sceneById(key) : undefined;
  if (!scene) throw new HttpError(404, "not_found", `no Stash scene with id ${key}`);
  return scene;
}

/** Which Stash instance a provider serves and where: the default at the root, others below `/instances/<id>`. */
export interface ProviderMount {
  id: string;
  /** "" or `/instances/<id>` (domain/ref.ts instancePath). */
  path: string;
}

/**
 * One provider: PMS registers each by its URL and identifier, so every Stash instance gets its
 * own, mounted below its path with its own Stash client, file index, rules and identifier.
 */
export const providerRoutes = (deps: ProviderDeps, mount: ProviderMount = { id: "default", path: "" }) => {
  const { stash, ctx } = deps;
  // The name keeps Elysia from taking a second instance's plugin for a duplicate of the first.
  return new Elysia({ name: `provider:${mount.id}`, prefix: mount.path })
    .get("/", () => ({
      MediaProvider: {
        identifier: ctx.identifier,
        title: deps.title,
        version: VERSION,
        Types: [{ type: 1, Scheme: [{ scheme: ctx.identifier }] }],
        Feature: [
          { type: "metadata", key: "/library/metadata" },
          { type: "match", key: "/library/metadata/matches" },
          { type: "collection", key: "/library/collections" },
        ],
      },
    }))
    .post(
      "/library/metadata/matches",
      async ({ body }) => {
        try {
          const found = await matchScenes(body, deps);
          return mediaContainer(ctx.identifier, { Metadata: found });
        } catch (err) {
          // PMS logs an error and leaves the file unmatched on any non-200; an empty answer lets the scan go on.
          if (!isStashError(err)) throw err;
          const why = {
            unavailable: "Stash is not reachable",
            unauthorised: "Stash refused the API key",
            query: "Stash rejected the query",
          }[err.kind];
          deps.log.warn(`match answered empty: ${why}`, { error: err.message });
          return mediaContainer(ctx.identifier, { Metadata: [] });
        }
      },
      { body: MatchRequest, parse: guardedJson({ maxBytes: 64 * 1024, maxDepth: 8 }) },
    )
    .get(
      "/library/metadata/:ratingKey",
      async ({ params }) => {
        const scene = await sceneOr404(stash, params.ratingKey);
        return mediaContainer(ctx.identifier, { Metadata: [sceneToMetadata(scene, ctx)] });
      },
      {
        // Only once the answer has gone out does it prove PMS has the metadata: a process that
        // dies while answering must not have confirmed the push already.
        afterResponse({ params, set, request }) {
          if ((set.status ?? 200) === 200)
            deps.onServed?.(sceneRef(mount.id, params.ratingKey), callerOf(request.headers));
        },
      },
    )
    .get("/library/metadata/:ratingKey/images", async ({ params, query, headers }) => {
      const scene = await sceneOr404(stash, params.ratingKey);
      return mediaContainer(ctx.identifier, { Image: sceneImages(scene, ctx) }, readPaging(query, headers));
    })
    .get("/library/metadata/:ratingKey/extras", ({ params }) => {
      // PMS asks on every refresh and logs a failed query for anything but a container. A scene
      // has no trailers or featurettes: an empty one, without asking Stash (whether it still has
      // the scene is the metadata route's answer). A key that can be no scene: as metadata says.
      checkRatingKey(params.ratingKey);
      if (!SCENE_KEY.test(params.ratingKey))
        throw new HttpError(404, "not_found", `no Stash scene with id ${params.ratingKey}`);
      return mediaContainer(ctx.identifier, { Metadata: [] });
    })
    .get("/library/collections/:ratingKey", async ({ params, query, headers }) => {
      checkRatingKey(params.ratingKey);
      const id = COLLECTION_KEY.exec(params.ratingKey)?.[1];
      const group = id ? (await stash.groups([id])).items[0] : undefined;
      if (!group) throw new HttpError(404, "not_found", `no Stash group for collection ${params.ratingKey}`);
      return mediaContainer(ctx.identifier, { Metadata: [groupToMetadata(group, ctx)] }, readPaging(query, headers));
    })
    .get("/images/:kind/:id", async ({ params }) => {
      if (!isImageKind(params.kind)) {
        throw new HttpError(404, "not_found", "images are served for scene, performer, group and studio only");
      }
      if (!/^\d{1,18}$/.test(params.id)) throw new HttpError(400, "bad_id", "an image id is a number");
      const response = await proxyImage(stash, params.kind, params.id);
      if (!response) throw new HttpError(404, "not_found", `Stash has no ${params.kind} image for ${params.id}`);
      return response;
    });
};

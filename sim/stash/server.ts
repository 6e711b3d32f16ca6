/**
 * A Stash simulator: a real GraphQL server (graphql-js) over a SimLibrary, plus Stash's
 * image routes, with switchable faults (latency, 5xx errors, GraphQL errors, downtime,
 * API-key auth). It counts the queries it answers so tests and benchmarks can see cost.
 *
 * Studios, performers and tags (collections read them whole) answer as Stash's schema has them
 * (../shared/stash-schema: findStudios/findPerformers/findTags, PerformerFilterType.scene_count,
 * Tag.parents/description/image_path): an image_path is never null, `&default=true` when the thing
 * has none of its own (Stash's urlbuilders: GetTagImageURL as the studio's and performer's). A sort
 * by `updated_at` is by the stored text, as the poller's evidence says Stash compares its stamps
 * (src/sync/poller.ts): across a DST switch back the newest edit can sort below an older one.
 */
import type { SimPlugins } from "./plugins.ts";
import { SimServer } from "../sim-server.ts";
import { buildSchema, execute, parse, validate, type DocumentNode, type GraphQLSchema } from "graphql";
// Imported as text so `bun build --compile` embeds it (the demo runs from the executable).
import SDL from "./schema.graphql" with { type: "text" };
import { SimLibrary, type SeedOptions, type SimGroup, type SimScene, type SimStudio, type SimTag } from "./library.ts";
import { matchesFilter, matchesQuery } from "./filter.ts";
import { rfc3339 } from "./clock.ts";

export interface StashFaults {
  latencyMs: number;
  /** Share of GraphQL requests answered 500 (0–1). */
  errorRate: number;
  /** Answer every query with a GraphQL error. */
  graphqlErrors: boolean;
  /** When set, requests without this ApiKey header get 401. */
  apiKey: string | null;
  /**
   * Answer every request with an HTML error page of this status (as a proxy in front of Stash
   * does), or null. With echoKey, pages and GraphQL errors repeat the ApiKey header they got.
   */
  errorPage: number | null;
  echoKey: boolean;
}

// A 1×1 PNG: enough for PMS (and our proxy) to treat it as an image.
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

type Vars = Record<string, any>;

/** When the seeded studios and groups were last updated (Unix seconds), the `t=` of their image URLs. */
const STUDIO_UPDATED = 1735689600;
/** Stash's `t=` of an image URL: the thing's updated_at in Unix seconds (urlbuilders' UpdatedAt.Unix()). */
const unixOf = (updatedAt: string | undefined) =>
  updatedAt ? Math.floor(Date.parse(updatedAt) / 1000) : STUDIO_UPDATED;
const SEEDED_AT = rfc3339(STUDIO_UPDATED * 1000, 0);
/** What Stash serves for a studio, group or performer without an image (a stand-in for its bundled defaults). */
const DEFAULT_IMAGE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>';

export class StashSim extends SimServer {
  readonly library: SimLibrary;
  faults: StashFaults = {
    latencyMs: 0,
    errorRate: 0,
    graphqlErrors: false,
    apiKey: null,
    errorPage: null,
    echoKey: false,
  };
  queries = 0;
  /** Plugin settings as Stash stores them (Settings → Plugins). */
  pluginSettings: Record<string, Record<string, unknown>> = {};
  /** Stash's web pages as a test stands them in (sim/stash/pages.ts): the scene page with its plugins' UI. */
  ui?: (req: Request, url: URL) => Response | undefined;
  /** Plugins whose tasks runPluginTask runs (set by a test: new SimPlugins(dir, …)). */
  plugins?: SimPlugins;
  /** Every operation name answered, in order (tests read it to see what the client asked). */
  operations: string[] = [];
  /** The last requests as sent (query and variables), for the conformance test. */
  requests: { query: string; variables: Record<string, unknown> }[] = [];
  private schema: GraphQLSchema = buildSchema(SDL);
  private documents = new Map<string, DocumentNode | readonly Error[]>();

  constructor(seed: SeedOptions) {
    super();
    this.library = new SimLibrary(() => this.url, seed);
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (this.faults.latencyMs) await Bun.sleep(this.faults.latencyMs);
    const echoed = this.faults.echoKey ? ` (request had ApiKey ${req.headers.get("apikey")})` : "";
    if (this.faults.errorPage !== null) {
      return new Response(
        `<html><body><h1>Error ${this.faults.errorPage}</h1><p>upstream failed${echoed}</p></body></html>`,
        { status: this.faults.errorPage, headers: { "content-type": "text/html" } },
      );
    }
    if (this.faults.apiKey !== null && req.headers.get("apikey") !== this.faults.apiKey) {
      return new Response(`Unauthorized${echoed}`, { status: 401 });
    }
    if (url.pathname === "/graphql" && req.method === "POST") return this.graphql(req);
    const page = this.ui?.(req, url);
    if (page) return page;
    if (url.pathname === "/__sim/stats")
      return Response.json({ queries: this.queries, scenes: this.library.scenes.size });
    const image = /^\/(scene|performer|group|studio|tag)\/(\d+)\/(screenshot|image|frontimage)$/.exec(url.pathname);
    if (image && req.method === "GET") {
      const [kind, id] = [image[1]!, image[2]!];
      const studio = kind === "studio" ? this.library.studios.find((s) => s.id === id) : undefined;
      const group = kind === "group" ? this.library.groups.get(id) : undefined;
      const performer = kind === "performer" ? this.performer(id) : undefined;
      const tag = kind === "tag" ? this.library.allTags().find((t) => t.id === id) : undefined;
      const own = studio
        ? studio.image_path
        : group
          ? group.front_image_path
          : tag
            ? tag.image_path
            : performer?.image_path;
      // Stash serves its default picture for a studio, group, tag or performer without an image, or when asked for it.
      if ((studio || group || performer || tag) && (!own || url.searchParams.get("default") === "true"))
        return new Response(DEFAULT_IMAGE_SVG, { headers: { "content-type": "image/svg+xml" } });
      return this.image(image[1]!, image[2]!);
    }
    return new Response("not found", { status: 404 });
  }

  private image(kind: string, id: string): Response {
    const lib = this.library;
    const has =
      kind === "scene"
        ? lib.scenes.get(id)?.hasScreenshot
        : kind === "group"
          ? Boolean(lib.groups.get(id)?.front_image_path)
          : kind === "tag"
            ? Boolean(lib.allTags().find((t) => t.id === id)?.image_path)
            : kind === "studio"
              ? Boolean(lib.studios.find((s) => s.id === id)?.image_path)
              : Boolean(this.performer(id)?.image_path);
    if (!has) return new Response("no image", { status: 404 });
    // A replaced cover is other bytes: the revision follows the image's end (a PNG ends at IEND; readers stop there).
    const revision = kind === "scene" ? (lib.scenes.get(id)?.screenshotRevision ?? 0) : 0;
    const bytes = revision ? new Uint8Array([...PNG, ...new TextEncoder().encode(`rev${revision}`)]) : PNG;
    return new Response(bytes, { headers: { "content-type": "image/png", etag: `"${kind}-${id}-${revision}"` } });
  }

  private async graphql(req: Request): Promise<Response> {
    this.queries++;
    if (this.faults.errorRate > 0 && Math.random() < this.faults.errorRate) {
      return new Response("internal error", { status: 500 });
    }
    let body: { query?: string; variables?: Vars; operationName?: string };
    try {
      body = (await req.json()) as typeof body;
    } catch {
      return Response.json({ errors: [{ message: "invalid JSON body" }] }, { status: 400 });
    }
    const source = body.query ?? "";
    this.requests.push({ query: source, variables: body.variables ?? {} });
    if (this.requests.length > 200) this.requests.shift();
    let document = this.documents.get(source);
    if (!document) {
      try {
        const parsed = parse(source);
        const errors = validate(this.schema, parsed);
        document = errors.length ? errors : parsed;
      } catch (err) {
        document = [err as Error];
      }
      this.documents.set(source, document);
    }
    if (Array.isArray(document)) {
      return Response.json({ errors: document.map((e) => ({ message: e.message })) }, { status: 422 });
    }
    const doc = document as DocumentNode;
    const op = doc.definitions.find((d) => d.kind === "OperationDefinition");
    this.operations.push(op && "name" in op && op.name ? op.name.value : "anonymous");
    if (this.faults.graphqlErrors) {
      const echoed = this.faults.echoKey ? ` for ApiKey ${req.headers.get("apikey")}` : "";
      return Response.json({ errors: [{ message: `simulated resolver failure${echoed}` }], data: null });
    }
    const result = await execute({
      schema: this.schema,
      document: doc,
      rootValue: this.root(),
      variableValues: body.variables ?? {},
    });
    return Response.json(result);
  }

  private root() {
    return {
      findScene: ({ id }: Vars) => (id ? this.present(this.library.scenes.get(String(id))) : null),
      findScenes: (args: Vars) => this.findScenes(args),
      runPluginTask: ({ plugin_id, task_name, args_map }: Vars) => {
        if (!this.plugins) throw new Error("no plugins installed");
        return this.plugins.run(
          String(plugin_id),
          String(task_name ?? ""),
          (args_map as Record<string, unknown>) ?? {},
        );
      },
      runPluginOperation: ({ plugin_id, args }: Vars) => {
        if (!this.plugins) throw new Error("no plugins installed");
        return this.plugins.operation(String(plugin_id), (args as Record<string, unknown>) ?? {});
      },
      metadataScan: ({ input }: Vars) => {
        this.library.scan((input?.paths as string[] | undefined) ?? []);
        return String(this.library.scansRequested.length);
      },
      findGroups: ({ ids, filter }: Vars) => {
        let groups = [...this.library.groups.values()];
        if (ids) groups = groups.filter((g) => ids.includes(g.id));
        const page = this.page(
          groups.map((g) => ({ ...g, updated_at: g.updated_at ?? SEEDED_AT })),
          filter,
        );
        return {
          count: groups.length,
          groups: page.map((g) => ({
            ...g,
            front_image_path: this.frontImage(g),
            updated_at: g.updated_at ?? SEEDED_AT,
            scene_count: () => this.library.sceneCount(g.id),
          })),
        };
      },
      // Studios, performers and tags as Stash's find queries answer them (collections read them whole).
      findStudios: ({ ids, filter }: Vars) => {
        let studios = this.library.studios;
        if (ids) studios = studios.filter((s) => ids.includes(s.id));
        return {
          count: studios.length,
          studios: this.page(
            studios.map((s) => ({ ...s, updated_at: s.updated_at ?? SEEDED_AT })),
            filter,
          ).map((s) => this.studio(s)),
        };
      },
      findPerformers: ({ ids, performer_filter, filter }: Vars) => {
        const counts = this.library.performerSceneCounts();
        let performers = [...counts.keys()];
        if (ids) performers = performers.filter((p) => ids.includes(p.id));
        const min = performer_filter?.scene_count as { value: number; modifier: string } | undefined;
        if (min?.modifier === "GREATER_THAN") performers = performers.filter((p) => counts.get(p)! > min.value);
        return {
          count: performers.length,
          performers: this.page(
            performers.map((p) => ({ ...p, updated_at: p.updated_at ?? SEEDED_AT })),
            filter,
          ).map((p) => ({
            ...p,
            details: p.details ?? null,
            image_path: this.performerImage(p),
            scene_count: counts.get(p),
          })),
        };
      },
      findTags: ({ ids, filter }: Vars) => {
        let tags = this.library.allTags();
        if (ids) tags = tags.filter((t) => ids.includes(t.id));
        return {
          count: tags.length,
          tags: this.page(
            tags.map((t) => ({ ...t, updated_at: t.updated_at ?? SEEDED_AT })),
            filter,
          ).map((t) => this.tag(t)),
        };
      },
      // Stash's sceneUpdate: the given fields only; updated_at moves and Scene.Update.Post fires.
      sceneUpdate: ({ input }: Vars) => {
        const { id, clientMutationId: _, ...patch } = input as Vars;
        const scene = this.library.update(String(id), patch);
        this.library.writes.push({ op: "sceneUpdate", id: String(id), at: this.library.clock.now(), input });
        this.plugins?.hook("Scene.Update.Post", Number(id), input);
        return this.present(scene);
      },
      // Plays and activity: Stash writes its history table and two columns, never updated_at.
      sceneAddPlay: ({ id, times }: Vars) => {
        const parsed = ((times as string[] | null) ?? []).map((t) => {
          const ms = Date.parse(t);
          if (!Number.isFinite(ms)) throw new Error(`cannot parse Timestamp: ${t}`);
          return ms;
        });
        const history = this.library.addPlays(String(id), parsed).map((ms) => rfc3339(ms, 0));
        return { count: history.length, history };
      },
      sceneSaveActivity: ({ id, resume_time, playDuration }: Vars) =>
        this.library.saveActivity(String(id), resume_time, playDuration),
      version: () => ({ version: "v0.28.1-sim" }),
      configuration: () => ({
        general: () => ({ stashes: this.library.stashes }),
        plugins: ({ include }: Vars) =>
          Object.fromEntries(Object.entries(this.pluginSettings).filter(([id]) => !include || include.includes(id))),
      }),
    };
  }

  /**
   * A studio as Stash answers it, its parent studio the same way. Stash's image_path is never
   * null: `…/studio/<id>/image?t=<updated_at as Unix seconds>`, with `&default=true` when the
   * studio has no image of its own (that URL serves Stash's default picture; GetStudioImageURL in
   * Stash's urlbuilders). An edit of the studio moves updated_at, so its image URL changes.
   */
  private studio(studio: SimStudio): Record<string, unknown> {
    const image = `${this.url}/studio/${studio.id}/image?t=${unixOf(studio.updated_at)}`;
    return {
      ...studio,
      updated_at: studio.updated_at ?? SEEDED_AT,
      details: studio.details ?? null,
      image_path: studio.image_path ? image : `${image}&default=true`,
      parent_studio: studio.parent_studio && this.studio(studio.parent_studio),
    };
  }

  /** A tag as Stash answers it: its image URL never null (`default=true` without one, GetTagImageURL), its parents likewise. */
  private tag(tag: SimTag): Record<string, unknown> {
    const image = `${this.url}/tag/${tag.id}/image?t=${unixOf(tag.updated_at)}`;
    return {
      ...tag,
      updated_at: tag.updated_at ?? SEEDED_AT,
      description: tag.description ?? null,
      image_path: tag.image_path ? image : `${image}&default=true`,
      parents: (tag.parents ?? []).map((p) => this.tag(p)),
    };
  }

  /** A performer of some scene (the simulator keeps performers on their scenes). */
  private performer(id: string) {
    for (const scene of this.library.scenes.values()) {
      const found = scene.performers.find((p) => p.id === id);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * A performer's image as Stash answers it: never null, `…/performer/<id>/image?t=<updated_at>`
   * with `&default=true` when it has none (GetPerformerImageURL; that URL serves a default picture).
   */
  private performerImage(performer: { id: string; image_path: string | null }): string {
    const image = `${this.url}/performer/${performer.id}/image?t=${STUDIO_UPDATED}`;
    return performer.image_path ? image : `${image}&default=true`;
  }

  /** A group's front image as Stash answers it: never null, `&default=true` when it has none (GetGroupFrontImageURL). */
  private frontImage(group: SimGroup): string {
    const image = `${this.url}/group/${group.id}/frontimage?t=${unixOf(group.updated_at)}`;
    return group.front_image_path ? image : `${image}&default=true`;
  }

  private findScenes({ ids, scene_filter: filter, filter: find }: Vars) {
    const lib = this.library;
    let scenes: SimScene[];
    // Stash answers these from database indexes; the simulator uses maps for the common exact lookups.
    const path = filter?.path ?? filter?.files_filter?.path;
    const basename = filter?.files_filter?.basename;
    if (ids) scenes = (ids as string[]).map((id) => lib.scenes.get(String(id))).filter((s): s is SimScene => !!s);
    else if (path?.modifier === "EQUALS") scenes = [lib.sceneByPath(path.value)].filter((s): s is SimScene => !!s);
    else if (basename?.modifier === "EQUALS") scenes = lib.scenesByBasename(basename.value);
    else scenes = [...lib.scenes.values()];
    scenes = scenes.filter(
      (s) => matchesFilter(s, filter) && (!find?.q || matchesQuery(this.searchText(s), String(find.q))),
    );
    if (find?.sort === "updated_at") {
      // SQLite's ORDER BY on Stash's text column: string order, not time order.
      const byText = (a: SimScene, b: SimScene) =>
        a.updated_at < b.updated_at ? -1 : a.updated_at > b.updated_at ? 1 : 0;
      scenes = [...scenes].sort((a, b) => byText(a, b) || Number(a.id) - Number(b.id));
    } else if (!ids) {
      // No sort given: Stash (SQLite) answers in row order, which is id order here.
      scenes = [...scenes].sort((a, b) => Number(a.id) - Number(b.id));
    }
    if (find?.direction === "DESC") scenes.reverse();
    return {
      count: scenes.length,
      duration: 0,
      filesize: 0,
      scenes: this.page(scenes, find).map((s) => this.present(s)),
    };
  }

  /** Lower-cased searchable text, cached per scene version (Stash has a database index for this). */
  private searchCache = new Map<string, { stamp: string; text: string }>();
  private searchText(s: SimScene): string {
    const cached = this.searchCache.get(s.id);
    if (cached?.stamp === s.updated_at) return cached.text;
    const text =
      `${s.title ?? ""} ${s.details ?? ""} ${s.code ?? ""} ${s.files.map((f) => f.path).join(" ")}`.toLowerCase();
    this.searchCache.set(s.id, { stamp: s.updated_at, text });
    return text;
  }

  private page<T>(items: T[], find?: Vars): T[] {
    // Sorted by updated_at as Stash sorts it: by the stored local-time text (see the header).
    if (find?.sort === "updated_at") {
      const at = (x: T) => String((x as { updated_at?: string }).updated_at ?? SEEDED_AT);
      const order = (a: T, b: T) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0); // SQLite's BINARY text order
      items = [...items].sort((a, b) => (find.direction === "DESC" ? order(b, a) : order(a, b)));
    }
    const perPage = find?.per_page ?? 25;
    if (perPage < 0) return items;
    const page = Math.max(1, find?.page ?? 1);
    return items.slice((page - 1) * perPage, page * perPage);
  }

  /** Shapes a stored scene as Stash's GraphQL answers it (image paths are URLs). */
  private present(scene: SimScene | undefined) {
    if (!scene) return null;
    const u = this.url;
    const history = scene.play_history ?? [];
    return {
      ...scene,
      // Stash keeps play dates in UTC and answers them so, newest first.
      play_history: history.map((ms) => rfc3339(ms, 0)),
      play_count: history.length,
      last_played_at: history.length ? rfc3339(Math.max(...history), 0) : null,
      resume_time: scene.resume_time ?? 0,
      play_duration: scene.play_duration ?? 0,
      // As Stash's urlbuilders spell it: the scene's updated_at as `t=`, so any edit is a new URL.
      paths: {
        screenshot: scene.hasScreenshot ? `${u}/scene/${scene.id}/screenshot?t=${unixOf(scene.updated_at)}` : null,
      },
      // Stash keeps each file's fingerprints (oshash, md5, phash); oshash is the one every scan makes.
      files: scene.files.map((f) => ({
        ...f,
        fingerprints: [{ type: "oshash", value: f.oshash }],
        fingerprint: ({ type }: { type: string }) => (type === "oshash" ? f.oshash : null),
      })),
      studio: scene.studio && this.studio(scene.studio),
      performers: scene.performers.map((p) => ({
        ...p,
        image_path: this.performerImage(p),
      })),
      groups: scene.groups.map((g) => ({
        ...g,
        group: {
          ...g.group,
          front_image_path: this.frontImage(g.group),
          updated_at: g.group.updated_at ?? SEEDED_AT,
          scene_count: 0,
        },
      })),
    };
  }
}

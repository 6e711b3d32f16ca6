/**
 * The simulated Stash library: a seeded, generated set of scenes with the awkward cases real
 * libraries have (unicode titles, scenes without title/date/studio, several files per scene,
 * Windows-style paths), indexed the way the simulator's queries need.
 *
 * A file's `size` and its `oshash` fingerprint are fields of Stash's VideoFile
 * (../shared/stash-schema/types/file.graphql: size, fingerprints, fingerprint(type)); the hash is
 * Stash's pkg/hash/oshash (real-pms-evidence.md §6). The sizes are made up (varied, as video
 * files are); a test that needs real bytes writes them and sets both from them.
 */
import { rng } from "../rng.ts";
import { StashClock, type ClockOptions } from "./clock.ts";

export interface SimFile {
  id: string;
  path: string;
  basename: string;
  size: number;
  duration: number;
  width: number;
  height: number;
  /** Stash's oshash fingerprint (pkg/hash/oshash): of the file's bytes when a test made real ones. */
  oshash: string;
}
export interface SimTag {
  id: string;
  name: string;
  /** Stash's description of the tag, its image (set: it has one of its own) and parent tags. */
  description?: string | null;
  image_path?: string | null;
  parents?: SimTag[];
  updated_at?: string;
}
export interface SimStudio {
  id: string;
  name: string;
  image_path: string | null;
  parent_studio: SimStudio | null;
  /** Stash's free-text description of the studio. */
  details?: string | null;
  /** When the studio was last edited (Stash's updated_at, RFC 3339): the `t=` of its image URL. */
  updated_at?: string;
}
export interface SimPerformer {
  id: string;
  name: string;
  disambiguation: string | null;
  image_path: string | null;
  details?: string | null;
  updated_at?: string;
}
export interface SimGroup {
  id: string;
  name: string;
  synopsis: string | null;
  date: string | null;
  director: string | null;
  front_image_path: string | null;
  /** When the group was last edited (Stash's updated_at, RFC 3339): the `t=` of its image URLs. */
  updated_at?: string;
}
export interface SimScene {
  id: string;
  title: string | null;
  code: string | null;
  details: string | null;
  director: string | null;
  urls: string[];
  date: string | null;
  rating100: number | null;
  organized: boolean;
  created_at: string;
  updated_at: string;
  files: SimFile[];
  hasScreenshot: boolean;
  /** How many times the screenshot was replaced (Stash's "set cover image"): its bytes differ each time. */
  screenshotRevision?: number;
  studio: SimStudio | null;
  performers: SimPerformer[];
  tags: SimTag[];
  groups: { group: SimGroup; scene_index: number | null }[];
  scene_markers: { id: string; title: string; seconds: number; end_seconds: number | null; primary_tag: SimTag }[];
  stash_ids: { endpoint: string; stash_id: string }[];
  /**
   * Stash's play history (its scenes_view_dates table): one row per play, stored to the second
   * (UTC RFC 3339 text), never deduplicated: the same time added twice is two plays. Unset: none.
   */
  play_history?: number[];
  /** Where playback stopped, in seconds (Stash's column defaults to 0). */
  resume_time?: number;
  /** Seconds spent playing, summed (sceneSaveActivity ADDS its playDuration). */
  play_duration?: number;
}

/** A write the simulator received, for tests that count them (sceneUpdate, sceneAddPlay, sceneSaveActivity). */
export interface SimWrite {
  op: "sceneUpdate" | "sceneAddPlay" | "sceneSaveActivity";
  id: string;
  at: number;
  input: Record<string, unknown>;
}

export interface SeedOptions {
  scenes: number;
  seed?: number;
  /** Where the POSIX part of the library lives. */
  root?: string;
  /** Share of scenes kept under a Windows drive (D:\Scenes\…). */
  windowsShare?: number;
  /** The server's time zone (offset, DST switch) and clock. */
  clock?: ClockOptions;
  /**
   * Share of scenes whose file has a generic name (intro.mp4, scene.mp4, …) in a folder of its
   * own, as camera and studio downloads are: names that many files share.
   */
  genericShare?: number;
}

const GENERIC_NAMES = ["intro.mp4", "scene.mp4", "clip.mp4", "video.mp4", "part 1.mp4"];

const WORDS = [
  "Sunset",
  "Velvet",
  "Morning",
  "Secret",
  "Garden",
  "Ocean",
  "Midnight",
  "Summer",
  "Golden",
  "Silk",
  "Rain",
  "Studio",
  "Harbor",
  "Winter",
  "Echo",
  "Neon",
  "Desert",
  "River",
  "Crystal",
  "Shadow",
  "Ember",
  "Lotus",
  "Marble",
  "Horizon",
];
const UNICODE = [
  "Café Noir",
  "Señorita Días",
  "東京の夜",
  "Ünïcödé Nights",
  "Zoë & Chloé",
  "Crème Brûlée",
  "Москва",
  "Łódź Story",
  "Smile 😀",
];
const STUDIOS = ["Brazzle", "Vixenia", "Blacked Out", "Tushy Pro", "Nubile Films", "Studio Étoile", "Deeper Co"];
const PERFORMERS = [
  "Alice Wonder",
  "Bella Rose",
  "Chloé Martin",
  "Dana Lee",
  "Eva Élan",
  "Fiona Sky",
  "Gina Gold",
  "Hana Sato",
];
const TAGS = ["Outdoor", "Romantic", "4K", "Blonde", "Brunette", "Interview", "POV", "Couple", "Solo", "Massage"];

export class SimLibrary {
  scenes = new Map<string, SimScene>();
  /** Moves on whenever a scene is added or removed (the set of ids changes): caches of the id order key on it. */
  version = 0;
  groups = new Map<string, SimGroup>();
  studios: SimStudio[] = [];
  /**
   * Stash's library folders (Settings → Library; `configuration { general { stashes } }`): where
   * the generated scenes live, the Windows drive's folder when some scenes are there.
   */
  stashes: { path: string; excludeVideo: boolean; excludeImage: boolean }[] = [];
  private byPath = new Map<string, SimScene>();
  private byBasename = new Map<string, Set<SimScene>>();
  private nextFileId = 1;
  readonly clock: StashClock;
  /** When each edit was made (server ms), for tests and benchmarks that count changes. */
  edits: { id: string; at: number }[] = [];
  /** Every write mutation received, in order (tests count sceneUpdates and plays). */
  writes: SimWrite[] = [];

  constructor(
    readonly baseUrl: () => string,
    options: SeedOptions,
  ) {
    this.clock = new StashClock(options.clock);
    this.generate(options);
  }

  private generate({ scenes, seed = 42, root = "/data/stash", windowsShare = 0.1, genericShare = 0 }: SeedOptions) {
    const rand = rng(seed);
    const folder = (path: string) => ({ path, excludeVideo: false, excludeImage: false });
    this.stashes = [folder(root), ...(windowsShare > 0 ? [folder("D:\\Scenes")] : [])];
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    const tags = TAGS.map((name, i) => ({ id: String(i + 1), name }));
    const parent: SimStudio = {
      id: "100",
      name: "Mega Network",
      image_path: "logo",
      parent_studio: null,
      details: "Every studio of the network.",
    };
    this.studios = [
      parent,
      ...STUDIOS.map((name, i) => ({
        id: String(i + 1),
        name,
        image_path: i % 3 === 0 ? null : "logo",
        parent_studio: i % 2 === 0 ? parent : null,
        details: i % 2 ? `About ${name}.` : null,
      })),
    ];
    const performers = PERFORMERS.map((name, i) => ({
      id: String(i + 1),
      name,
      disambiguation: i === 2 ? "FR" : null,
      image_path: i % 4 === 3 ? null : "img",
    }));
    for (let g = 1; g <= 5; g++) {
      this.groups.set(String(g), {
        id: String(g),
        name: `${pick(WORDS)} Collection ${g}`,
        synopsis: g % 2 ? `The ${g}th collection.` : null,
        date: `2023-0${g}-1${g}`,
        director: g === 1 ? "Jane Director" : null,
        front_image_path: g === 5 ? null : "front",
      });
    }
    for (let i = 1; i <= scenes; i++) {
      const id = String(i);
      const kind = i % 23;
      const studio = kind === 5 ? null : this.studios[1 + (i % STUDIOS.length)]!;
      const date =
        kind === 7
          ? null
          : `20${String(15 + (i % 10)).padStart(2, "0")}-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")}`;
      const title = kind === 3 ? null : kind === 11 ? `${pick(UNICODE)} ${i}` : `${pick(WORDS)} ${pick(WORDS)} ${i}`;
      const windows = rand() < windowsShare;
      const studioDir = studio?.name ?? "Unsorted";
      const fileTitle = (title ?? `clip_${i}`).replace(/[\\/:*?"<>|]/g, "");
      // Chosen by arithmetic, not the generator, so the rest of a seeded library stays the same.
      const generic = (i * 37) % 100 < genericShare * 100;
      const fileName = generic
        ? `${date ?? "undated"} ${fileTitle}/${GENERIC_NAMES[i % GENERIC_NAMES.length]}`
        : `${date ?? "undated"} ${fileTitle}.mp4`;
      const paths = windows
        ? [`D:\\Scenes\\${studioDir}\\${fileName.replace("/", "\\")}`]
        : [`${root}/${studioDir}/${fileName}`];
      if (kind === 13) paths.push(windows ? `D:\\Scenes\\Extra\\${i}-alt.mkv` : `${root}/Extra/${i}-alt.mkv`);
      const sceneTags =
        kind === 17 ? [] : [pick(tags), pick(tags), pick(tags)].filter((t, k, all) => all.indexOf(t) === k);
      const created = this.clock.stamp(Date.UTC(2025, 0, 1) - (scenes - i) * 60_000);
      const scene: SimScene = {
        id,
        title,
        code: i % 4 === 0 ? `SC-${1000 + i}` : null,
        details: i % 3 === 0 ? null : `Details of scene ${i}.`,
        director: i % 5 === 0 ? "Max Director" : null,
        urls: [`https://example.test/scenes/${i}`],
        date,
        rating100: i % 6 === 0 ? null : (i * 7) % 101,
        organized: i % 2 === 0,
        created_at: created,
        updated_at: created,
        files: paths.map((path, k) => this.file(path, 600 + (i % 1200) + k * 30.5)),
        hasScreenshot: kind !== 19,
        studio,
        performers: kind === 9 ? [] : [pick(performers), pick(performers)].filter((p, k, all) => all.indexOf(p) === k),
        tags: sceneTags,
        groups: i % 10 === 0 ? [{ group: this.groups.get(String(1 + (i % 5)))!, scene_index: Math.floor(i / 10) }] : [],
        scene_markers:
          i % 8 === 0
            ? [
                { id: `${i}01`, title: "Intro", seconds: 0, end_seconds: 60, primary_tag: tags[0]! },
                { id: `${i}02`, title: "", seconds: 120.5, end_seconds: null, primary_tag: tags[1]! },
              ]
            : [],
        stash_ids: i % 5 === 0 ? [{ endpoint: "https://stashdb.org/graphql", stash_id: `0000-${i}` }] : [],
      };
      this.add(scene);
    }
  }

  private file(path: string, duration: number): SimFile {
    const basename = path.split(/[\\/]/).at(-1)!;
    const id = this.nextFileId++;
    // Sizes as video files have them (0.3 to 3.3 GB), different for nearly every file; the oshash
    // stands for bytes nobody reads (a test writing real files sets both from them).
    const size = 300_000_000 + ((id * 2_654_435_761) % 3_000_000_000);
    const oshash = (BigInt(size) + (BigInt(Bun.hash(path)) % 2n ** 63n)).toString(16).padStart(16, "0").slice(-16);
    return { id: String(id), path, basename, size, duration, width: 1920, height: 1080, oshash };
  }

  add(scene: SimScene) {
    this.version++;
    this.scenes.set(scene.id, scene);
    for (const f of scene.files) {
      this.byPath.set(f.path, scene);
      let set = this.byBasename.get(f.basename);
      if (!set) this.byBasename.set(f.basename, (set = new Set()));
      set.add(scene);
    }
  }

  remove(id: string) {
    const scene = this.scenes.get(id);
    if (!scene) return;
    this.version++;
    this.scenes.delete(id);
    for (const f of scene.files) {
      this.byPath.delete(f.path);
      this.byBasename.get(f.basename)?.delete(scene);
    }
  }

  /**
   * Edits a scene as a user would in Stash's UI: updated_at moves on. Tags, performers and the
   * studio are set whole, as sceneUpdate's tag_ids, performer_ids and studio_id do.
   */
  update(
    id: string,
    patch: Partial<
      Pick<
        SimScene,
        "title" | "details" | "date" | "code" | "rating100" | "director" | "tags" | "performers" | "studio"
      >
    >,
  ) {
    const scene = this.scenes.get(id);
    if (!scene) throw new Error(`no scene ${id}`);
    const at = this.clock.now();
    Object.assign(scene, patch, { updated_at: this.clock.stamp(at) });
    this.edits.push({ id, at });
    return scene;
  }

  /** Replaces a scene's cover image, as "Set as cover" in Stash does: new bytes, updated_at moves on. */
  replaceScreenshot(id: string) {
    const scene = this.scenes.get(id);
    if (!scene) throw new Error(`no scene ${id}`);
    scene.screenshotRevision = (scene.screenshotRevision ?? 0) + 1;
    scene.hasScreenshot = true;
    return this.update(id, {});
  }

  /**
   * Edits a studio as Stash's studioUpdate does: its updated_at moves on (so does the `t=` of its
   * image URL); none of its scenes changes (no scene's updated_at, no Scene.Update hook).
   */
  updateStudio(id: string, patch: Partial<Pick<SimStudio, "name" | "image_path" | "details">>) {
    const studio = this.studios.find((s) => s.id === id);
    if (!studio) throw new Error(`no studio ${id}`);
    return Object.assign(studio, patch, { updated_at: this.clock.stamp() });
  }

  /** Every tag of some scene, and their parents (the simulator keeps tags on their scenes), by id. */
  allTags(): SimTag[] {
    const byId = new Map<string, SimTag>();
    const add = (t: SimTag) => {
      if (byId.has(t.id)) return;
      byId.set(t.id, t);
      for (const p of t.parents ?? []) add(p);
    };
    for (const scene of this.scenes.values()) for (const t of scene.tags) add(t);
    return [...byId.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Each performer of some scene with its number of scenes (Stash's scene_count). */
  performerSceneCounts(): Map<SimPerformer, number> {
    const counts = new Map<string, { p: SimPerformer; n: number }>();
    for (const scene of this.scenes.values())
      for (const p of scene.performers) {
        const c = counts.get(p.id) ?? { p, n: 0 };
        c.n++;
        counts.set(p.id, c);
      }
    return new Map([...counts.values()].sort((a, b) => Number(a.p.id) - Number(b.p.id)).map((c) => [c.p, c.n]));
  }

  /** Edits a tag as Stash's tagUpdate does: its updated_at moves on, its scenes stay as they are. */
  updateTag(id: string, patch: Partial<Pick<SimTag, "name" | "description" | "image_path" | "parents">>) {
    const tag = this.allTags().find((t) => t.id === id);
    if (!tag) throw new Error(`no tag ${id}`);
    return Object.assign(tag, patch, { updated_at: this.clock.stamp() });
  }

  /** Edits a group as Stash's groupUpdate does: its updated_at moves on, its scenes stay as they are. */
  updateGroup(id: string, patch: Partial<Pick<SimGroup, "name" | "synopsis" | "front_image_path" | "date">>) {
    const group = this.groups.get(id);
    if (!group) throw new Error(`no group ${id}`);
    return Object.assign(group, patch, { updated_at: this.clock.stamp() });
  }

  /**
   * Stash's sceneAddPlay: one history row per time (now when none is given), each cut to the
   * second as Stash stores it; the same time twice is two plays. Neither updated_at nor a hook
   * moves. Answers the scene's whole history, newest first, as Stash does.
   */
  addPlays(id: string, times: number[]): number[] {
    const scene = this.scenes.get(id);
    if (!scene) throw new Error(`FOREIGN KEY constraint failed: no scene ${id}`);
    const added = (times.length ? times : [this.clock.now()]).map((t) => Math.floor(t / 1000) * 1000);
    scene.play_history = [...(scene.play_history ?? []), ...added].sort((a, b) => b - a);
    this.writes.push({ op: "sceneAddPlay", id, at: this.clock.now(), input: { times } });
    return scene.play_history;
  }

  /**
   * Stash's sceneSaveActivity: sets resume_time when given and ADDS playDuration to
   * play_duration (a column update: updated_at stays, no hook fires).
   */
  saveActivity(id: string, resumeTime: number | null | undefined, playDuration: number | null | undefined) {
    const scene = this.scenes.get(id);
    if (!scene) throw new Error(`scene with id ${id} not found`);
    if (resumeTime != null) scene.resume_time = resumeTime;
    if (playDuration != null) scene.play_duration = (scene.play_duration ?? 0) + playDuration;
    this.writes.push({
      op: "sceneSaveActivity",
      id,
      at: this.clock.now(),
      input: { resume_time: resumeTime, playDuration },
    });
    return true;
  }

  /** Counts the writes of one kind (of one scene, or all). */
  writeCount(op: SimWrite["op"], id?: string) {
    return this.writes.filter((w) => w.op === op && (id === undefined || w.id === id)).length;
  }

  /**
   * Stash's sceneMerge: the sources' files move to the destination, the sources are deleted,
   * and the destination's updated_at moves on.
   */
  merge(sourceIds: string[], destinationId: string) {
    const destination = this.scenes.get(destinationId);
    if (!destination) throw new Error(`no scene ${destinationId}`);
    const moved = sourceIds.flatMap((id) => this.scenes.get(id)?.files ?? []);
    sourceIds.forEach((id) => this.remove(id));
    this.remove(destinationId);
    destination.files = [...destination.files, ...moved];
    destination.updated_at = this.clock.stamp(this.clock.now());
    this.add(destination);
  }

  /** Files on Stash's disk that a scan would find (metadataScan of a folder holding them adds a scene each). */
  unscanned: string[] = [];
  /** The paths each metadataScan asked for. */
  scansRequested: string[][] = [];

  /** Stash's metadataScan: every unscanned file under one of `paths` becomes a new scene. */
  scan(paths: string[]) {
    this.scansRequested.push(paths);
    const folder = (p: string) => (/[\\/]$/.test(p) ? p : `${p}${p.includes("\\") ? "\\" : "/"}`);
    const found = this.unscanned.filter((f) => paths.some((p) => f === p || f.startsWith(folder(p))));
    this.unscanned = this.unscanned.filter((f) => !found.includes(f));
    const template = this.scenes.values().next().value as SimScene;
    let next = Math.max(0, ...[...this.scenes.keys()].map(Number)) + 1;
    for (const path of found) {
      const id = String(next++);
      const stamp = this.clock.stamp(this.clock.now());
      this.add({
        ...template,
        id,
        title: null,
        code: null,
        details: null,
        director: null,
        urls: [],
        date: null,
        rating100: null,
        organized: false,
        created_at: stamp,
        updated_at: stamp,
        files: [this.file(path, 600)],
        studio: null,
        performers: [],
        tags: [],
        groups: [],
        scene_markers: [],
        stash_ids: [],
        play_history: [],
        resume_time: 0,
        play_duration: 0,
      });
    }
  }

  sceneByPath = (path: string) => this.byPath.get(path);
  scenesByBasename = (name: string) => [...(this.byBasename.get(name) ?? [])];
  sceneCount = (groupId: string) =>
    [...this.scenes.values()].filter((s) => s.groups.some((g) => g.group.id === groupId)).length;
}

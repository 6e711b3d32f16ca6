/**
 * What the chaos soak checks once everything is up again, against the simulators' own state
 * (not the service's word): every Plex item shows its scene's last edit, every episode link is
 * where its scene's studio and date put it, and every viewing is exactly one play in Stash.
 */
import { dirname, resolve } from "node:path";
import type { SimItem } from "../../sim/plex/server.ts";
import type { SimScene } from "../../sim/stash/library.ts";
import { hashOf } from "../../sim/plex/artwork.ts";
import { sceneDate } from "../../src/provider/metadata.ts";
import { sceneTitle } from "../../src/domain/scene.ts";
import { linksUnder } from "../lib.ts";
import { type ChaosWorld, type Instance, TV } from "./world.ts";

export interface Findings {
  /** Edited scenes whose Plex item(s) do not show the last edit (instance:id → what differs). */
  lost: Map<string, string>;
  /** Scenes never edited whose item is wrong all the same. */
  wrong: Map<string, string>;
  /** Episode links (and episode items) that are missing, misplaced or stale. */
  links: string[];
  /** Plays in Stash beyond one per viewing, and viewings with no play. */
  duplicates: number;
  missingPlays: number;
  playProblems: string[];
}

export const findingCount = (f: Findings) =>
  f.lost.size + f.wrong.size + f.links.length + f.duplicates + f.missingPlays;

const names = (tags: unknown) => (Array.isArray(tags) ? tags.map((t: { tag: string }) => t.tag).sort() : []);
const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What differs between a Plex item and its scene (title, date, tags, performers, artwork); "" when nothing. */
function differs(item: SimItem, scene: SimScene, imageHash: string | undefined, world: ChaosWorld): string {
  const out: string[] = [];
  if (item.title !== sceneTitle(scene))
    out.push(`title ${JSON.stringify(item.title)} ≠ ${JSON.stringify(scene.title)}`);
  if (item.fields.originallyAvailableAt !== sceneDate(scene))
    out.push(`date ${item.fields.originallyAvailableAt} ≠ ${sceneDate(scene)}`);
  const tags = scene.tags.map((t) => t.name).sort();
  if (!same(names(item.fields.Genre), tags)) out.push(`tags ${names(item.fields.Genre)} ≠ ${tags}`);
  const performers = scene.performers.map((p) => p.name).sort();
  if (!same(names(item.fields.Role), performers)) out.push(`performers ${names(item.fields.Role)} ≠ ${performers}`);
  for (const element of ["posters", "arts"] as const) {
    const held = world.pms.artwork.heldBy(item, element);
    // Where Plex shows an image it is the newest; a replaced cover must have reached the movie item.
    const mustHold = (scene.screenshotRevision ?? 0) > 0 && (item.type ?? "movie") === "movie";
    if (held ? held.hash !== imageHash : mustHold) out.push(`${element} ${held ? "old" : "none"}`);
  }
  return out.join("; ");
}

/** The hash of each replaced cover's bytes, as Stash serves them now (scene id → hash). */
async function imageHashes(instance: Instance): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const scene of instance.stash.library.scenes.values()) {
    if (!scene.hasScreenshot) continue;
    const res = await fetch(`${instance.stash.url}/scene/${scene.id}/screenshot`);
    out.set(scene.id, hashOf(new Uint8Array(await res.arrayBuffer())));
  }
  return out;
}

/** The placed scenes of the TV library (studio layout): the show and season folder each belongs in. */
function placements(instance: Instance) {
  const out = new Map<string, { scene: SimScene; show: string; season: string; index: number }>();
  for (const scene of instance.stash.library.scenes.values()) {
    if (!scene.studio || scene.files.length === 0) continue;
    const year = scene.date ? Number(scene.date.slice(0, 4)) : 0;
    out.set(scene.id, {
      scene,
      show: `{s2p-st${scene.studio.id}}`,
      season: year ? `Season ${year}` : "Specials",
      index: year,
    });
  }
  return out;
}

function checkLinks(world: ChaosWorld, problems: string[]) {
  const placed = placements(world.main);
  const seen = new Map<string, string>();
  for (const [link, target] of linksUnder(world.folder)) {
    if (!target) continue; // not a link (nothing of ours)
    const id = /\{s2p-st-(\d+)\}\.[^/]+$/.exec(link)?.[1];
    const want = id ? placed.get(id) : undefined;
    if (!id || !want) {
      problems.push(`stale link ${link}`);
      continue;
    }
    if (seen.has(id)) problems.push(`scene ${id} has two links: ${seen.get(id)} and ${link}`);
    seen.set(id, link);
    const [show, season] = link.split("/");
    if (!show?.endsWith(want.show) || season !== want.season)
      problems.push(`link ${link} is not in ${want.show}/${want.season}`);
    const resolved = resolve(dirname(resolve(world.folder, link)), target);
    if (resolved !== want.scene.files[0]!.path) problems.push(`link ${link} points at ${resolved}`);
  }
  for (const id of placed.keys()) if (!seen.has(id)) problems.push(`scene ${id} has no link`);
}

function checkEpisodes(world: ChaosWorld, hashes: Map<string, string>, problems: string[]) {
  const placed = placements(world.main);
  const byScene = new Map<string, SimItem[]>();
  const prefix = `${TV}://episode/st-`;
  for (const item of world.pms.items.values()) {
    if (item.sectionId !== "3" || item.type !== "episode") continue;
    const id = item.guid.startsWith(prefix) ? item.guid.slice(prefix.length) : `?${item.guid}`;
    byScene.set(id, [...(byScene.get(id) ?? []), item]);
  }
  for (const [id, items] of byScene) {
    const want = placed.get(id);
    if (!want) {
      problems.push(`stale episode item(s) ${items.map((i) => `${i.ratingKey} at ${i.files[0]}`)} (scene ${id})`);
      continue;
    }
    if (items.length > 1) problems.push(`scene ${id} has ${items.length} episode items`);
    const season = world.pms.items.get(items[0]!.parentRatingKey ?? "");
    const show = world.pms.items.get(season?.parentRatingKey ?? "");
    if (season?.index !== want.index || show?.title !== want.scene.studio!.name)
      problems.push(`episode of scene ${id} is in ${show?.title}/${season?.index}, not ${want.show}/${want.season}`);
    const diff = differs(items[0]!, want.scene, hashes.get(id), world);
    if (diff) problems.push(`episode of scene ${id}: ${diff}`);
  }
  for (const id of placed.keys()) if (!byScene.has(id)) problems.push(`scene ${id} has no episode in Plex`);
}

/**
 * Everything the soak promises, looked at now. `edited` holds `instance:id` of every scene
 * edited; `viewed` the number of viewings made of each (same keys).
 */
export async function inspect(
  world: ChaosWorld,
  edited: ReadonlySet<string>,
  viewed: ReadonlyMap<string, number>,
): Promise<Findings> {
  const f: Findings = {
    lost: new Map(),
    wrong: new Map(),
    links: [],
    duplicates: 0,
    missingPlays: 0,
    playProblems: [],
  };
  for (const instance of world.instances) {
    const hashes = await imageHashes(instance);
    const items = world.movieItems(instance);
    for (const scene of instance.stash.library.scenes.values()) {
      const key = `${instance.id}:${scene.id}`;
      const mine = items.get(scene.id) ?? [];
      const diff =
        mine.length === 0
          ? "no Plex item"
          : mine
              .map((item) => differs(item, scene, hashes.get(scene.id), world))
              .filter(Boolean)
              .join(" | ");
      if (diff) (edited.has(key) ? f.lost : f.wrong).set(key, diff);
      const plays = scene.play_history?.length ?? 0;
      const want = viewed.get(key) ?? 0;
      if (plays !== want) f.playProblems.push(`${key}: ${plays} plays for ${want} viewings`);
      f.duplicates += Math.max(0, plays - want);
      f.missingPlays += Math.max(0, want - plays);
    }
    if (instance === world.main) {
      checkLinks(world, f.links);
      checkEpisodes(world, hashes, f.links);
    }
  }
  return f;
}

/** The findings in a few lines, for a failed run. */
export function describe(f: Findings, max = 8): string {
  const head = <T>(list: T[]) => list.slice(0, max);
  return [
    `lost edits ${f.lost.size}: ${head([...f.lost])
      .map(([k, v]) => `${k} (${v})`)
      .join(", ")}`,
    `wrong unedited ${f.wrong.size}: ${head([...f.wrong])
      .map(([k, v]) => `${k} (${v})`)
      .join(", ")}`,
    `episode folder / episodes ${f.links.length}: ${head(f.links).join(", ")}`,
    `plays: ${f.duplicates} duplicated, ${f.missingPlays} missing: ${head(f.playProblems).join(", ")}`,
  ].join("\n");
}

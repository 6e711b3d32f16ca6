/**
 * Collections of every kind, kept exact (issue 28), end to end: Stash simulator → real service →
 * PMS simulator, which keeps collections as PMS does (sim/plex/collections.ts: created and
 * changed through its HTTP API, never deleted when emptied). A movie section and a TV section
 * on the episode folder, 2,000 scenes, every kind on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { COLLECTION_GAP_KINDS } from "../../src/domain/gaps.ts";
import {
  IDENTIFIER,
  runMain,
  adminAuth,
  adminGet,
  post,
  tempDir,
  testEnv,
  waitFor,
  WEBHOOK_TOKEN,
} from "../helpers.ts";

const TV_IDENTIFIER = `${IDENTIFIER}.tv`;
const KINDS = [...COLLECTION_GAP_KINDS];
const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}` };

interface World {
  stash: StashSim;
  pms: PmsSim;
  app: App;
  env: Record<string, string>;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const stash = new StashSim({ scenes: 2000, seed: 28, windowsShare: 0 }).start();
  // A parent tag: every tag under it is a collection.
  const hair = { id: "50", name: "Hair", description: "Hair colours.", image_path: "img", parents: [] };
  for (const t of stash.library.allTags()) if (t.name === "Blonde" || t.name === "Brunette") t.parents = [hair];
  // Group 1's scenes numbered against their ids (its collection must follow the index, not Stash's id order).
  for (const sc of stash.library.scenes.values())
    for (const g of sc.groups) if (g.group.id === "1" && g.scene_index !== null) g.scene_index = 10_000 - g.scene_index;
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const folder = tempDir("s2p-coll-");
  pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [folder] });
  const env = testEnv(stash, pms, {
    TV_LIBRARIES: JSON.stringify([{ id: "sites", layout: "studio", folder, plexFolder: folder }]),
    COLLECTIONS_KINDS: "studio,network,group,performer,tag",
    COLLECTIONS_TAGS: "POV",
    COLLECTIONS_TAG_PARENTS: "Hair",
    COLLECTIONS_PERFORMER_MIN_SCENES: "5",
    COLLECTIONS_EVERY_MINUTES: "0",
    SYNC_RETRY_BASE_SECONDS: "0.05",
    SYNC_RETRY_CAP_SECONDS: "0.4",
    SYNC_DRAIN_PER_SECOND: "2000",
  });
  const app = createApp(loadConfig(env, undefined), { log: silentLogger });
  await app.start(0, "127.0.0.1");
  expect(await pms.registerProvider(app.url!)).toBe(IDENTIFIER);
  expect(await pms.registerProvider(`${app.url}/tv`)).toBe(TV_IDENTIFIER);
  await app.stashIndex.refresh();
  const synced = await waitFor(
    () => Boolean(app.scheduler.list().find((j) => j.id === "tv-sync")?.lastSuccessAt),
    60_000,
  );
  if (!synced) throw new Error("tv-sync did not finish");
  await pms.scan("1", { concurrency: 16 });
  await pms.idle();
  await app.plexIndex.refresh(await app.plex.sections());
  return {
    stash,
    pms,
    app,
    env,
    async close() {
      await app.stop();
      await pms.stop();
      await stash.stop();
    },
  };
}

const keeper = (w: World) => w.app.collections.keeperOf("default")!;
/** Every item of a section showing this scene (movie or episode). */
function itemsOfScene(w: World, section: string, sceneId: string): string[] {
  const guids = [`${IDENTIFIER}://movie/${sceneId}`, `${TV_IDENTIFIER}://episode/st-${sceneId}`];
  return [...w.pms.items.values()]
    .filter((i) => i.sectionId === section && guids.includes(i.guid))
    .map((i) => i.ratingKey);
}

/** What Stash implies for a section: title → member rating keys (sorted), from the simulator's own library. */
function implied(w: World, section: string): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  const add = (title: string, keys: string[]) => {
    if (!keys.length) return;
    const set = out.get(title) ?? new Set<string>();
    for (const k of keys) set.add(k);
    out.set(title, set);
  };
  const perfCounts = new Map<string, number>();
  for (const s of w.stash.library.scenes.values())
    for (const p of s.performers) perfCounts.set(p.id, (perfCounts.get(p.id) ?? 0) + 1);
  const parents = new Set(w.stash.library.studios.flatMap((s) => (s.parent_studio ? [s.parent_studio.id] : [])));
  for (const s of w.stash.library.scenes.values()) {
    const keys = itemsOfScene(w, section, s.id);
    if (s.studio) {
      add(s.studio.name, keys);
      const network = s.studio.parent_studio ?? (parents.has(s.studio.id) ? s.studio : null);
      if (network) add(`Network: ${network.name}`, keys);
    }
    for (const g of s.groups) add(g.group.name, keys);
    for (const p of s.performers) if ((perfCounts.get(p.id) ?? 0) >= 5) add(`Performer: ${p.name}`, keys);
    for (const t of s.tags)
      if (t.name === "POV" || (t.parents ?? []).some((p) => p.name === "Hair")) add(`Tag: ${t.name}`, keys);
  }
  return new Map([...out].map(([t, set]) => [t, [...set].sort()]));
}

/** Our collections of a section as PMS has them: title → members (sorted). */
function shown(w: World, section: string): Map<string, string[]> {
  return new Map(
    w.pms.collections
      .inSection(section)
      .filter((c) => c.labels.includes("stash2plex"))
      .map((c) => [c.title, [...c.members].sort()]),
  );
}

/** The Stash thing a collection of ours is named after: its text and whether it has an image of its own. */
function describedBy(w: World, title: string): { summary: string; hasImage: boolean } {
  const lib = w.stash.library;
  const name = title.replace(/^(Network|Performer|Tag): /, "");
  const kind = /^(Network|Performer|Tag): /.exec(title)?.[1] ?? "";
  if (kind === "Performer") {
    const p = [...lib.scenes.values()].flatMap((s) => s.performers).find((x) => x.name === name)!;
    return { summary: p.details?.trim() ?? "", hasImage: Boolean(p.image_path) };
  }
  if (kind === "Tag") {
    const t = lib.allTags().find((x) => x.name === name)!;
    return { summary: t.description?.trim() ?? "", hasImage: Boolean(t.image_path) };
  }
  const studio = lib.studios.find((x) => x.name === name);
  if (studio) return { summary: studio.details?.trim() ?? "", hasImage: Boolean(studio.image_path) };
  const group = [...lib.groups.values()].find((x) => x.name === name)!;
  return { summary: group.synopsis?.trim() ?? "", hasImage: Boolean(group.front_image_path) };
}

const sorted = (m: Map<string, string[]>) => [...m].sort(([a], [b]) => a.localeCompare(b));

describe("collections of every kind, 2,000 scenes, a movie and a TV library", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  }, 180_000);
  afterAll(() => w?.close());

  test("one pass: every collection has exactly the members Stash implies, with its summary and poster; none extra", async () => {
    await keeper(w).pass();
    for (const section of ["1", "2"]) {
      const want = implied(w, section);
      expect(want.size).toBeGreaterThan(15);
      expect(sorted(shown(w, section))).toEqual(sorted(want));
    }
    // Each with its thing's text as summary and its image as poster (uploaded), where Stash has one.
    for (const c of w.pms.collections.inSection("1").filter((x) => x.labels.includes("stash2plex"))) {
      const thing = describedBy(w, c.title);
      expect(c.summary).toBe(thing.summary);
      expect(Boolean(c.poster)).toBe(thing.hasImage);
    }
    const network = w.pms.collections.inSection("1").find((c) => c.title === "Network: Mega Network")!;
    expect(network.summary).toBe("Every studio of the network.");
    expect(network.poster).toBeDefined();
    const hair = w.pms.collections.inSection("1").find((c) => c.title === "Tag: Blonde");
    expect(hair).toBeDefined();
    // A group's collection keeps its scenes' order (scene index; scenes without one last).
    const sceneOf = new Map([...w.pms.items.values()].map((i) => [i.ratingKey, i.guid.split("/").at(-1)!]));
    for (const group of w.stash.library.groups.values()) {
      const c = w.pms.collections.inSection("1").find((x) => x.title === group.name && x.labels.includes("stash2plex"));
      if (!c) continue;
      const scenes = [...w.stash.library.scenes.values()]
        .flatMap((sc) =>
          sc.groups.filter((g) => g.group.id === group.id).map((g) => ({ id: sc.id, index: g.scene_index })),
        )
        .filter((x) => itemsOfScene(w, "1", x.id).length)
        .sort(
          (a, b) =>
            (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER) || Number(a.id) - Number(b.id),
        );
      const listed = c.members.map((rk) => sceneOf.get(rk)).filter((id, i, all) => id !== all[i - 1]);
      expect(listed).toEqual(scenes.map((x) => x.id));
      expect(w.pms.collections.get(c.ratingKey)!.collectionSort).toBe(2);
    }
    // The dashboard lists them per library, one number each: as many as Plex shows of ours.
    const page = await (await adminGet(`${w.app.url}/ui/collections`)).text();
    for (const section of ["1", "2"]) {
      const count = shown(w, section).size;
      expect(page).toContain(`Library section ${section}: ${count} collections`);
    }
    expect(page).toContain("Network: Mega Network");
    // A second pass changes nothing.
    const again = await keeper(w).pass({ dryRun: true });
    expect(again.sections.flatMap((s) => s.actions)).toEqual([]);
  }, 120_000);

  test("a hand-made collection named like a studio is untouched; a planted wrong member and a stray of ours are healed by a reconcile", async () => {
    const studio = w.stash.library.studios.find((s) => s.parent_studio === null && s.id !== "100")!;
    const hand = w.pms.collections.create("1", { title: studio.name, members: [itemsOfScene(w, "1", "1")[0]!] });
    const ours = w.pms.collections
      .inSection("1")
      .find((c) => c.labels.includes("stash2plex") && c.title.startsWith("Performer: "))!;
    const stranger = [...w.pms.items.values()].find((i) => i.sectionId === "1" && !ours.members.includes(i.ratingKey))!;
    w.pms.collections.add(w.pms.collections.get(ours.ratingKey)!, [stranger.ratingKey]);
    const stray = w.pms.collections.create("1", {
      title: "Old thing",
      members: [stranger.ratingKey],
      labels: ["stash2plex"],
    });
    /** A reconcile through the API, healing `heal`; its report. */
    const reconcile = async (heal: string[]) => {
      const started = Date.now();
      const res = await post(`${w.app.url}/api/reconcile`, { kinds: KINDS, heal }, adminAuth);
      expect(res.status).toBe(202);
      let report: any;
      const ended = await waitFor(
        async () => {
          const state = (await (await adminGet(`${w.app.url}/api/reconcile`)).json()) as any;
          report = state.report;
          return state.running === null && state.report?.trigger === "api" && state.report.startedAt >= started;
        },
        60_000,
        100,
      );
      expect(ended).toBe(true);
      return report;
    };
    const report = await reconcile(KINDS);
    // The wrong member (a removal) and the stray (a deletion), found and healed.
    expect(report.counts["collection-members"]).toBe(1);
    expect(report.counts["collection-extra"]).toBe(1);
    expect(report.healed).toEqual(report.counts);
    expect(sorted(shown(w, "1"))).toEqual(sorted(implied(w, "1")));
    expect(w.pms.collections.get(stray.ratingKey)).toBeUndefined();
    const kept = w.pms.collections.get(hand.ratingKey)!;
    expect(kept.title).toBe(studio.name);
    expect(kept.members).toHaveLength(1);

    // The same through `stash2plex reconcile --heal` (a real process beside the service): a stray of
    // ours planted again is reported by name, healed, and a second run finds no collection gap.
    const again = w.pms.collections.create("1", {
      title: "Another old thing",
      members: [stranger.ratingKey],
      labels: ["stash2plex"],
    });
    const run = (...args: string[]) => runMain(w.env, ["reconcile", ...args]);
    const healed = await run("--kinds", KINDS.join(","), "--heal");
    expect(healed.out).toContain("Another old thing");
    expect(w.pms.collections.get(again.ratingKey)).toBeUndefined();
    const clean = await run("--kinds", KINDS.join(","));
    expect(clean.code).toBe(0);

    // A heal of one kind carries out only that kind of what the look found: the stray goes, the
    // wrong member (reported) stays for a heal that asks for it.
    w.pms.collections.add(w.pms.collections.get(ours.ratingKey)!, [stranger.ratingKey]);
    const third = w.pms.collections.create("1", {
      title: "A third old thing",
      members: [stranger.ratingKey],
      labels: ["stash2plex"],
    });
    const partial = await reconcile(["collection-extra"]);
    expect(partial.counts).toEqual({ "collection-members": 1, "collection-extra": 1 });
    expect(partial.healed).toEqual({ "collection-extra": 1 });
    expect(w.pms.collections.get(third.ratingKey)).toBeUndefined();
    expect(w.pms.collections.get(ours.ratingKey)!.members).toContain(stranger.ratingKey);
    await reconcile(KINDS);
    expect(w.pms.collections.get(ours.ratingKey)!.members).not.toContain(stranger.ratingKey);
    expect(sorted(shown(w, "1"))).toEqual(sorted(implied(w, "1")));
  }, 120_000);

  test("50 scenes to another studio, a tag off 50 scenes, a studio renamed, a performer's last scene deleted: exact again after the pushes and the next pass", async () => {
    const lib = w.stash.library;
    const scenes = [...lib.scenes.values()].filter((s) => s.studio && s.files.length);
    const target = lib.studios.find((s) => s.id === "2")!;
    const moved = scenes.filter((s) => s.studio!.id !== target.id).slice(0, 50);
    const tagged = scenes.filter((s) => s.tags.some((t) => t.name === "POV")).slice(0, 50);
    const renamed = lib.studios.find((s) => s.id === "3")!;
    const oldName = renamed.name;
    const renamedKey = w.pms.collections.inSection("1").find((c) => c.title === oldName)!.ratingKey;
    // A performer taken off all their scenes but one, then that last scene deleted in Stash.
    const byPerformer = new Map<string, string[]>();
    for (const s of lib.scenes.values())
      for (const p of s.performers) byPerformer.set(p.id, [...(byPerformer.get(p.id) ?? []), s.id]);
    const [performerId, theirs] = [...byPerformer].sort((a, b) => a[1].length - b[1].length)[0]!;
    const performer = lib.scenes.get(theirs[0]!)!.performers.find((p) => p.id === performerId)!;
    const performerCollection = w.pms.collections
      .inSection("1")
      .find((c) => c.title === `Performer: ${performer.name}`)!;
    expect(performerCollection).toBeDefined();
    for (const id of theirs.slice(1))
      lib.update(id, { performers: lib.scenes.get(id)!.performers.filter((p) => p.id !== performerId) });
    const last = theirs[0]!;
    const before = new Map(moved.map((s) => [s.id, s.studio!.name]));
    for (const s of moved) lib.update(s.id, { studio: target });
    for (const s of tagged) lib.update(s.id, { tags: s.tags.filter((t) => t.name !== "POV") });
    // The watch notes where Stash is, then sees the rename (no scene changed) and runs a pass.
    expect(await keeper(w).watch()).toBe(false);
    lib.updateStudio(renamed.id, { name: "Renamed Studio" });
    lib.remove(last);
    // The webhook names the scenes still in Stash (a deleted one is no change it can announce).
    const ids = [...new Set([...moved.map((s) => s.id), ...tagged.map((s) => s.id), ...theirs.slice(1)])].filter(
      (id) => id !== last,
    );
    for (let i = 0; i < ids.length; i += 50)
      expect((await post(`${w.app.url}/hooks/stash`, { sceneIds: ids.slice(i, i + 50) }, auth)).status).toBeLessThan(
        300,
      );
    const pushed = await waitFor(() => w.app.queue.pending() === 0, 150_000, 100);
    expect(pushed).toBe(true);
    // Memberships follow each scene's push: the performer's collection holds only the deleted scene's item.
    expect(w.pms.collections.get(performerCollection.ratingKey)!.members).toEqual(itemsOfScene(w, "1", last));
    // Each moved scene's items left their old studio's collection and joined the new one's, in both libraries.
    const ours = (section: string, title: string) =>
      w.pms.collections.inSection(section).find((c) => c.title === title && c.labels.includes("stash2plex"));
    for (const s of moved.filter((s) => s.id !== last)) {
      for (const section of ["1", "2"]) {
        for (const item of itemsOfScene(w, section, s.id)) {
          expect(ours(section, target.name)!.members).toContain(item);
          expect(
            w.pms.collections
              .inSection(section)
              .filter((c) => c.members.includes(item) && c.labels.includes("stash2plex"))
              .map((c) => c.title),
          ).not.toContain(before.get(s.id));
        }
      }
    }
    // The rename and the deletion (no scene changed) follow the pass: the emptied collection is gone.
    // What a reconcile would report: the rename, and the renamed studio's new image version (its `t=` moved).
    const look = (await keeper(w).pass({ dryRun: true })).sections.find((s) => s.sectionId === "1")!.actions;
    expect(look).toContainEqual({
      do: "rename",
      ratingKey: renamedKey,
      key: "studio:3",
      from: oldName,
      title: "Renamed Studio",
    });
    if (renamed.image_path) expect(look).toContainEqual({ do: "poster", ratingKey: renamedKey, key: "studio:3" });
    await keeper(w).pass();
    for (const section of ["1", "2"]) expect(sorted(shown(w, section))).toEqual(sorted(implied(w, section)));
    expect(w.pms.collections.get(performerCollection.ratingKey)).toBeUndefined();
    expect((await keeper(w).pass({ dryRun: true })).sections.flatMap((s) => s.actions)).toEqual([]);
    const after = w.pms.collections.inSection("1").find((c) => c.title === "Renamed Studio")!;
    expect(after.ratingKey).toBe(renamedKey);
    expect(w.pms.collections.inSection("1").some((c) => c.title === oldName && c.labels.includes("stash2plex"))).toBe(
      false,
    );
  }, 240_000);

  test("a collection made again with a member PMS no longer has: made of the rest, that item forgotten from the Plex index", async () => {
    const ours = w.pms.collections
      .inSection("1")
      .filter((c) => c.labels.includes("stash2plex") && c.members.length > 3);
    const victim = ours.find((c) => !c.title.includes(":"))!;
    const [lost, ...rest] = victim.members;
    // A person deleted the collection in Plex, and PMS dropped one of its items (our index of Plex not caught up).
    w.pms.collections.delete(victim.ratingKey);
    const lostGuid = w.pms.items.get(lost!)!.guid;
    w.pms.items.delete(lost!);
    expect(w.app.plexIndex.withGuids([lostGuid]).map((i) => i.rating_key)).toEqual([lost!]);
    await keeper(w).pass();
    const remade = w.pms.collections
      .inSection("1")
      .find((c) => c.title === victim.title && c.labels.includes("stash2plex"))!;
    expect(remade.ratingKey).not.toBe(victim.ratingKey);
    expect([...remade.members].sort()).toEqual([...rest].sort());
    expect(w.app.plexIndex.withGuids([lostGuid])).toEqual([]);
    expect((await keeper(w).pass({ dryRun: true })).sections.flatMap((s) => s.actions)).toEqual([]);
  }, 120_000);
});

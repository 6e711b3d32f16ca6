/**
 * The service restarted on its data folder answers PMS's matches from the index of Stash's files
 * the last run left, before Stash answers anything, and catches up with what changed while it
 * was down (issue 26).
 */
import { afterAll, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { relativeFilename } from "../../sim/plex/scan.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexPathFor } from "../../src/demo.ts";
import { post, testEnv } from "../helpers.ts";

/** The Stash simulator, counting every request that reaches it (answered or not). */
class CountingStash extends StashSim {
  received = 0;
  protected override handle(req: Request) {
    this.received++;
    return super.handle(req);
  }
}
const stash = new CountingStash({ scenes: 300, seed: 12 }).start();
afterAll(() => stash.stop());

const matchOf = async (url: string, stashPath: string) => {
  const path = plexPathFor(stashPath);
  const root = path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes";
  const res = await post(`${url}/library/metadata/matches`, { type: 1, filename: relativeFilename({ path, root }) });
  const body = (await res.json()) as { MediaContainer: { Metadata?: { ratingKey: string; title: string }[] } };
  return body.MediaContainer.Metadata?.[0];
};

test("a restart answers a match from the index on disk before any Stash request, then finds the edits made while down", async () => {
  const config = loadConfig(testEnv(stash, undefined), undefined);
  const first = createApp(config, { log: silentLogger });
  await first.start(0, "127.0.0.1");
  await first.stashIndex.refresh();
  await first.stop();

  // While the service is down: a scene is renamed, and a new file is scanned into a new scene.
  const edited = [...stash.library.scenes.values()].find((s) => s.files[0]?.path.startsWith("/"))!;
  stash.library.update(edited.id, { title: "Renamed While Down" });
  const newPath = "/data/stash/New Studio/2026-01-02 Arrived While Down.mp4";
  stash.library.unscanned.push(newPath);
  stash.library.scan([newPath]);
  const added = stash.library.sceneByPath(newPath)!;

  // The app is built (its index opened) before Stash is asked anything; nothing reaches Stash yet.
  const received = stash.received;
  const again = createApp(config, { log: silentLogger });
  expect(again.stashIndex.ready).toBe(true);
  expect(again.stashIndex.sceneIdByPath(edited.files[0]!.path)).toBe(edited.id);
  expect(stash.received).toBe(received);

  // Started with Stash failing every request: a match still names the right scene, from the index.
  stash.faults.errorPage = 503;
  try {
    await again.start(0, "127.0.0.1");
    expect((await matchOf(again.url!, edited.files[0]!.path))?.ratingKey).toBe(edited.id);
  } finally {
    stash.faults.errorPage = null;
  }

  // Stash back: the catch-up is one delta, and it holds the edit and the new scene. The match
  // began a delta in the background while Stash failed, and concurrent calls share a run: when
  // this call joined that failing one (it was still under way: a loaded machine), the next is the
  // catch-up.
  let before = stash.queries;
  if (
    !(await again.stashIndex.refresh().then(
      () => true,
      () => false,
    ))
  ) {
    before = stash.queries;
    await again.stashIndex.refresh();
  }
  expect(stash.queries - before).toBe(1);
  expect(again.stashIndex.scene(edited.id)?.title).toBe("Renamed While Down");
  expect(again.stashIndex.sceneIdByPath(newPath)).toBe(added.id);
  expect((await matchOf(again.url!, newPath))?.ratingKey).toBe(added.id);
  await again.stop();
});

/**
 * The pull side end to end: the PMS simulator scans a library through the real provider,
 * backed by the Stash simulator, with path rules; every answer is checked against the contract.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { discover, scanFiles, type ScanFile } from "../../sim/plex/scan.ts";
import { IDENTIFIER, post, startWorld, type World } from "../helpers.ts";
import { plexPathFor } from "../../src/demo.ts";

let w: World;
beforeAll(async () => {
  w = await startWorld({ push: false, seed: { scenes: 300, windowsShare: 0.2 } });
});
afterAll(() => w.close());

const sceneOfGuid = (guid?: string) => guid?.match(/\/movie\/(\d+)$/)?.[1];

describe("a PMS library scan through the provider", () => {
  test("matches every file Stash knows to the right scene with full metadata, leaves the others unmatched", async () => {
    const report = await w.pms.scan("1", { concurrency: 16 });
    expect(report.violations).toEqual([]);
    const byPlexPath = new Map<string, string>();
    for (const scene of w.stash.library.scenes.values()) {
      for (const f of scene.files) {
        byPlexPath.set(plexPathFor(f.path), scene.id);
      }
    }
    let windows = 0;
    for (const r of report.results) {
      const expected = byPlexPath.get(r.file.path);
      const got = "metadata" in r ? r.metadata : undefined;
      if (!expected) {
        expect(got).toBeUndefined();
        continue;
      }
      if (r.file.path.startsWith("/media/Windows/")) windows++;
      expect(sceneOfGuid(got?.guid)).toBe(expected);
      const scene = w.stash.library.scenes.get(expected)!;
      expect(got!.title).toBe(scene.title ?? scene.files[0]!.basename.replace(/\.[^.]+$/, ""));
      if (scene.studio) expect(got!.studio).toBe(scene.studio.name);
      if (scene.date) expect(got!.originallyAvailableAt).toBe(scene.date);
      expect(got!.Role?.length ?? 0).toBe(scene.performers.length);
    }
    expect(windows).toBeGreaterThan(10);
    const unmatched = report.results.filter((r) => !("metadata" in r && r.metadata));
    expect(unmatched.map((r) => r.file.path)).toEqual(["/media/Scenes/Unknown/2020-01-01 Not In Stash.mp4"]);
  });

  test("a file Stash has under another folder is still found by its unique name", async () => {
    const scene = w.stash.library.scenes.get("40")!;
    const name = scene.files[0]!.basename;
    const res = await post(`${w.app.url}/library/metadata/matches`, {
      type: 1,
      filename: `Scenes/Moved/Elsewhere/${name}`,
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.MediaContainer.Metadata.map((m: any) => m.ratingKey)).toEqual(["40"]);
  });

  test("a re-match with our GUID returns that scene first", async () => {
    const res = await post(`${w.app.url}/library/metadata/matches`, {
      type: 1,
      guid: "tv.plex.agents.custom.stash2plex://movie/77",
      title: "whatever",
    });
    const body = (await res.json()) as any;
    expect(body.MediaContainer.Metadata[0].ratingKey).toBe("77");
    expect(body.MediaContainer.Metadata).toHaveLength(1);
  });

  test("Fix Match returns up to 10 ranked candidates with score, year, thumb and summary", async () => {
    const scene = [...w.stash.library.scenes.values()].find(
      (s) => s.title && s.date && s.details && s.hasScreenshot && s.studio,
    )!;
    const res = await post(`${w.app.url}/library/metadata/matches`, { type: 1, title: scene.title, manual: 1 });
    const list = ((await res.json()) as any).MediaContainer.Metadata as any[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.length).toBeLessThanOrEqual(10);
    expect(list[0].ratingKey).toBe(scene.id);
    for (let i = 1; i < list.length; i++) expect(list[i - 1].score).toBeGreaterThanOrEqual(list[i].score);
    expect(list[0]).toMatchObject({
      year: Number(scene.date!.slice(0, 4)),
      summary: scene.details,
      thumb: `${w.app.config.publicUrl}/images/scene/${scene.id}`,
    });
  });

  test("a vague title is not matched automatically, but is offered in Fix Match", async () => {
    const auto = await post(`${w.app.url}/library/metadata/matches`, { type: 1, title: "Sunset" });
    expect(((await auto.json()) as any).MediaContainer).toMatchObject({ size: 0, totalSize: 0, Metadata: [] });
    const manual = await post(`${w.app.url}/library/metadata/matches`, { type: 1, title: "Sunset", manual: "1" });
    expect(((await manual.json()) as any).MediaContainer.size).toBeGreaterThan(1);
  });
});

describe("metadata, images, collections", () => {
  test("unknown key 404, malformed key 400, images and collections page", async () => {
    expect((await fetch(`${w.app.url}/library/metadata/999999`)).status).toBe(404);
    const bad = await fetch(`${w.app.url}/library/metadata/a%2Fb`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain("ratingKey");
    const images = (await (
      await fetch(`${w.app.url}/library/metadata/1/images?X-Plex-Container-Size=1`)
    ).json()) as any;
    expect(images.MediaContainer).toMatchObject({ size: 1, totalSize: 2 });
    const col = await fetch(`${w.app.url}/library/collections/g1`, { headers: { "X-Plex-Container-Start": "0" } });
    expect(((await col.json()) as any).MediaContainer.Metadata[0]).toMatchObject({
      type: "collection",
      ratingKey: "g1",
    });
    expect((await fetch(`${w.app.url}/library/collections/g999`)).status).toBe(404);
  });

  test("a performer or group without an image of its own gets no thumb (Stash's link to its default picture is left out)", async () => {
    const scenes = [...w.stash.library.scenes.values()];
    const meta = async (id: string) =>
      ((await (await fetch(`${w.app.url}/library/metadata/${id}`)).json()) as any).MediaContainer.Metadata[0];
    const withBare = scenes.find((s) => s.performers.some((p) => !p.image_path))!;
    const bare = withBare.performers.find((p) => !p.image_path)!;
    const role = (await meta(withBare.id)).Role.find((r: any) => r.tag === bare.name);
    expect(role).toBeDefined();
    expect(role.thumb).toBeUndefined();
    const withImage = scenes.find((s) => s.performers.some((p) => p.image_path))!;
    const pictured = withImage.performers.find((p) => p.image_path)!;
    const picturedRole = (await meta(withImage.id)).Role.find((r: any) => r.tag === pictured.name);
    // Stash's version of the image rides along, so a new picture is a new URL PMS downloads.
    expect(picturedRole.thumb).toMatch(new RegExp(`/images/performer/${pictured.id}\\?t=\\d+$`));
    // Group 5 has no front image: neither its collection nor a scene's collection tag links one.
    const noFront = (await (await fetch(`${w.app.url}/library/collections/g5`)).json()) as any;
    expect(noFront.MediaContainer.Metadata[0].thumb).toBeUndefined();
    const front = (await (await fetch(`${w.app.url}/library/collections/g1`)).json()) as any;
    expect(front.MediaContainer.Metadata[0].thumb).toMatch(/\/images\/group\/1\?t=\d+$/);
    // A scene's groups are no Collection tags of its own (the collection keeper keeps them through PMS's API:
    // PMS joins a provider's tag by its title); a group whose image is removed: its collection links none.
    const inGroup = scenes.find((s) => s.groups.length)!;
    const groupId = inGroup.groups[0]!.group.id;
    expect((await meta(inGroup.id)).Collection).toBeUndefined();
    w.stash.library.updateGroup(groupId, { front_image_path: null });
    const groupNow = (await (await fetch(`${w.app.url}/library/collections/g${groupId}`)).json()) as any;
    expect(groupNow.MediaContainer.Metadata[0].thumb).toBeUndefined();
  });

  test("the image proxy streams Stash's images with the API key, by numeric id only", async () => {
    w.stash.faults.apiKey = null;
    const img = await fetch(`${w.app.url}/images/scene/1`);
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/png");
    expect(img.headers.get("cache-control")).toContain("max-age");
    expect((await img.arrayBuffer()).byteLength).toBeGreaterThan(10);
    const noShot = [...w.stash.library.scenes.values()].find((s) => !s.hasScreenshot)!;
    expect((await fetch(`${w.app.url}/images/scene/${noShot.id}`)).status).toBe(404);
    expect((await fetch(`${w.app.url}/images/scene/..%2F..%2Fgraphql`)).status).toBe(400);
    expect((await fetch(`${w.app.url}/images/config/1`)).status).toBe(404);
    expect((await fetch(`${w.app.url}/images/performer/1`)).status).toBe(200);
  });

  test("with push off (no PLEX_URL) the webhook says so instead of queueing", async () => {
    const res = await post(
      `${w.app.url}/hooks/stash`,
      { sceneIds: [1] },
      { authorization: "Bearer test-webhook-token-123" },
    );
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain("PLEX_URL");
    expect(w.app.queue.pending()).toBe(0);
  });

  test("bad match bodies get a clear 400, never a 500", async () => {
    const notJson = await post(`${w.app.url}/library/metadata/matches`, "{nope");
    expect(notJson.status).toBe(400);
    const noType = await post(`${w.app.url}/library/metadata/matches`, { title: "x" });
    expect(noType.status).toBe(400);
    expect(((await noType.json()) as any).error.message).toContain("type");
  });
});

describe("what PMS calls beside match and metadata", () => {
  const EMPTY = { MediaContainer: { offset: 0, totalSize: 0, size: 0, identifier: IDENTIFIER, Metadata: [] } };

  test("discovery at the registered URL itself, with ?includePreferences=1 (no slash), as PMS 1.43 asks", async () => {
    expect(await discover(w.app.url!)).toEqual({ identifier: IDENTIFIER, violations: [], types: [1] });
  });

  test("extras: an empty container for any scene key, Stash not asked (it is down); 400 malformed, 404 no scene key", async () => {
    await w.stash.stop();
    try {
      for (const key of ["1", "999999"]) {
        const res = await fetch(`${w.app.url}/library/metadata/${key}/extras`);
        expect([res.status, await res.json()]).toEqual([200, EMPTY]);
      }
      // The scene's metadata, which does need Stash, is not to be had now.
      expect((await fetch(`${w.app.url}/library/metadata/1`)).status).toBe(503);
      expect((await fetch(`${w.app.url}/library/metadata/a%2Fb/extras`)).status).toBe(400);
      expect((await fetch(`${w.app.url}/library/metadata/abc/extras`)).status).toBe(404);
    } finally {
      w.stash.start();
    }
  });

  test("a refresh asks for the item's extras after its metadata and gets an empty container: no violation", async () => {
    const scene = w.stash.library.scenes.get("7")!;
    const item = w.pms.addItem("1", "/media/Scenes/Elsewhere/refresh-me.mp4", { guid: `${IDENTIFIER}://movie/7` });
    const res = await fetch(`${w.pms.url}/library/metadata/${item.ratingKey}/refresh`, {
      method: "PUT",
      headers: { "X-Plex-Token": w.pms.token },
    });
    expect(res.status).toBe(200);
    await w.pms.idle();
    expect(item.title).toBe(scene.title ?? scene.files[0]!.basename.replace(/\.[^.]+$/, ""));
    expect(w.pms.tv.extras).toEqual([{ provider: w.app.url!, path: "/library/metadata/7/extras", status: 200 }]);
    expect(w.pms.violations).toEqual([]);
  });

  test("language and country as headers, as query parameters or not sent: the same matches and metadata", async () => {
    const files: ScanFile[] = w.files
      .slice(0, 40)
      .map((path) => ({ path, root: path.startsWith("/media/Windows/") ? "/media/Windows" : "/media/Scenes" }));
    const scans = [];
    for (const localeVia of ["header", "query", "none"] as const) {
      const as = { machineIdentifier: "ab".repeat(20), version: "1.43.0.sim", localeVia };
      const report = await scanFiles(w.app.url!, files, { as });
      expect(report.violations).toEqual([]);
      scans.push(report.results.map((r) => [r.matchStatus, r.metadataStatus, r.metadata]));
    }
    expect(scans[0]!.filter(([, , metadata]) => metadata).length).toBeGreaterThan(30);
    expect(scans[1]).toEqual(scans[0]!);
    expect(scans[2]).toEqual(scans[0]!);
  });
});

describe("Stash going down mid-scan", () => {
  test("match answers an empty container, metadata 503, and the next scan completes", async () => {
    const scenes = [...w.stash.library.scenes.values()].slice(0, 40);
    const files = scenes.flatMap((s) =>
      s.files
        .filter((f) => f.path.startsWith("/data/"))
        .map((f) => ({ path: f.path.replace("/data/stash/", "/media/Scenes/"), root: "/media/Scenes" })),
    );
    // New, un-indexed names force live lookups while Stash is down.
    const fresh = files.map((f) => ({ ...f, path: f.path.replace(/\.(\w+)$/, ".renamed.$1") }));
    await w.stash.stop();
    const down = await scanFiles(w.app.url!, fresh, { concurrency: 8 });
    expect(down.results.every((r) => r.matchStatus === 200)).toBe(true);
    expect(down.results.every((r) => !r.match)).toBe(true);
    const meta = await fetch(`${w.app.url}/library/metadata/${scenes[0]!.id}`);
    expect(meta.status).toBe(503);
    expect(meta.headers.get("retry-after")).toBeTruthy();
    w.stash.start();
    const again = await scanFiles(w.app.url!, files, { concurrency: 8 });
    expect(again.violations).toEqual([]);
    expect(again.results.every((r) => r.metadataStatus === 200)).toBe(true);
  });

  test("a wrong API key is 503 on metadata (not 404) and says what to fix", async () => {
    w.stash.faults.apiKey = "other-key";
    const res = await fetch(`${w.app.url}/library/metadata/5`);
    w.stash.faults.apiKey = null;
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.message).toContain("STASH_API_KEY");
  });
});

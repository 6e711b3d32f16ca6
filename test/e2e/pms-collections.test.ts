/**
 * Collections in the PMS simulator, driven over HTTP by the product's collection client: the
 * API's calls, the poster, an item's own Collection tags, and a provider's Collection tags on a
 * scan (movie sections only; the UNKNOWN drop on a tag's removal both ways).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PmsSim } from "../../sim/plex/server.ts";
import type { PlexError } from "../../src/plex/client.ts";
import { createPlexCollections, memberChunks } from "../../src/plex/collections.ts";
import { IDENTIFIER, startWorld, type World } from "../helpers.ts";

const headers = (pms: PmsSim) => ({ "X-Plex-Token": pms.token, accept: "application/json" });

describe("collections through PMS's HTTP API", () => {
  let pms: PmsSim;
  let api: ReturnType<typeof createPlexCollections>;
  const keys: string[] = [];
  beforeAll(() => {
    pms = new PmsSim().start();
    pms.addSection({ key: "1", title: "Scenes", type: "movie", agent: "tv.plex.agents.none", locations: ["/m"] }, []);
    pms.addSection({ key: "2", title: "Other", type: "movie", agent: "tv.plex.agents.none", locations: ["/o"] }, []);
    for (let i = 0; i < 5; i++) keys.push(pms.addItem("1", `/m/${i}.mp4`).ratingKey);
    api = createPlexCollections({ url: pms.url, token: pms.token, timeoutMs: 3000 });
  });
  afterAll(() => pms.stop());

  const detail = async (rk: string) =>
    ((await (await fetch(`${pms.url}/library/metadata/${rk}`, { headers: headers(pms) })).json()) as any).MediaContainer
      .Metadata[0];

  test("create with members, list, add, remove, drop; empty collections stay", async () => {
    const rk = await api.create("1", pms.machineIdentifier, 1, "Studio A", [keys[0]!, keys[1]!]);
    expect(rk).toMatch(/^\d+$/);
    expect(await api.members(rk)).toEqual([keys[0]!, keys[1]!]);
    await api.add(rk, pms.machineIdentifier, [keys[2]!]);
    expect(await api.members(rk)).toEqual([keys[0]!, keys[1]!, keys[2]!]);
    await api.remove(rk, keys[0]!);
    expect(await api.members(rk)).toEqual([keys[1]!, keys[2]!]);
    const [listed] = (await api.list("1")).filter((c) => c.ratingKey === rk);
    expect(listed).toMatchObject({ title: "Studio A", childCount: 2, labels: [], lockedFields: [] });
    expect(listed!.guid).toMatch(/^collection:\/\//);
    // Emptied: PMS keeps it (evidence §3, LIKELY).
    await api.remove(rk, keys[1]!);
    await api.remove(rk, keys[2]!);
    expect((await api.list("1")).find((c) => c.ratingKey === rk)?.childCount).toBe(0);
    await api.drop(rk);
    expect((await api.list("1")).some((c) => c.ratingKey === rk)).toBe(false);
    // An empty one without uri; the same key sequence as items.
    const empty = await api.create("1", pms.machineIdentifier, 1, "Empty", []);
    expect(Number(empty)).toBeGreaterThan(Number(keys.at(-1)));
    expect(await api.members(empty)).toEqual([]);
    expect((await api.list("2")).length).toBe(0);
  });

  test("a bad create is a 400: another server, an unknown section, no title", async () => {
    const bad = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as PlexError).status;
    expect(await bad(api.create("1", "0000", 1, "X", [keys[0]!]))).toBe(400);
    expect(await bad(api.create("9", pms.machineIdentifier, 1, "X", []))).toBe(400);
    expect(await bad(api.create("1", pms.machineIdentifier, 1, "", []))).toBe(400);
    await expect(api.create("1", pms.machineIdentifier, 1, "X", ["a"])).rejects.toThrow("keys are numbers");
  });

  test("edit keeps the rating key and locks; the label set reads back exactly", async () => {
    const rk = await api.create("1", pms.machineIdentifier, 1, "Old name", [keys[3]!]);
    await api.edit("1", rk, { title: "New name", summary: "About it", titleSort: "Name, New" });
    await api.label("1", rk, ["stash2plex", "studio"]);
    let c = (await api.list("1")).find((x) => x.ratingKey === rk)!;
    expect(c).toMatchObject({ title: "New name", summary: "About it", labels: ["stash2plex", "studio"] });
    expect(c.lockedFields.sort()).toEqual(["label", "summary", "title", "titleSort"]);
    await api.label("1", rk, ["stash2plex"]);
    c = (await api.list("1")).find((x) => x.ratingKey === rk)!;
    expect(c.labels).toEqual(["stash2plex"]);
    await api.label("1", rk, []);
    expect((await api.list("1")).find((x) => x.ratingKey === rk)!.labels).toEqual([]);
    expect(pms.collections.inSection("1").find((x) => x.ratingKey === rk)).toMatchObject({
      title: "New name",
      titleSort: "Name, New",
      members: [keys[3]!],
    });
  });

  test("a poster uploaded to a collection shows as PMS's own thumb", async () => {
    const rk = await api.create("1", pms.machineIdentifier, 1, "With poster", [keys[4]!]);
    expect((await api.list("1")).find((x) => x.ratingKey === rk)!.thumb).toBeUndefined();
    const res = await fetch(`${pms.url}/library/metadata/${rk}/posters`, {
      method: "POST",
      headers: headers(pms),
      body: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
    });
    expect(res.status).toBe(200);
    const c = (await api.list("1")).find((x) => x.ratingKey === rk)!;
    expect(c.thumb).toMatch(new RegExp(`^/library/metadata/${rk}/thumb/\\d+$`));
    expect(pms.collections.inSection("1").find((x) => x.ratingKey === rk)!.poster).toBeString();
    expect((await detail(rk)).type).toBe("collection");
  });

  test("an item shows the collections holding it; a tag edit on it joins and leaves them", async () => {
    const item = pms.addItem("1", "/m/tags.mp4");
    const a = await api.create("1", pms.machineIdentifier, 1, "Tag A", [item.ratingKey]);
    expect((await detail(item.ratingKey)).Collection).toEqual([
      { id: Number(a), tag: "Tag A", filter: `collection=${a}` },
    ]);
    const put = (query: string) =>
      fetch(`${pms.url}/library/sections/1/all?type=1&id=${item.ratingKey}&${query}`, {
        method: "PUT",
        headers: headers(pms),
      });
    await put("collection%5B0%5D.tag.tag=Tag%20A&collection%5B1%5D.tag.tag=Tag%20B&collection.locked=1");
    expect((await detail(item.ratingKey)).Collection.map((t: any) => t.tag)).toEqual(["Tag A", "Tag B"]);
    const b = pms.collections.byTitle("1", "Tag B")!;
    expect(b.members).toEqual([item.ratingKey]);
    await put("collection%5B%5D.tag.tag-=Tag%20A");
    expect((await detail(item.ratingKey)).Collection.map((t: any) => t.tag)).toEqual(["Tag B"]);
    expect(await api.members(a)).toEqual([]);
    // ShokoRelay's spelling, on the item itself.
    await fetch(`${pms.url}/library/metadata/${item.ratingKey}?collection%5B0%5D.tag.tag=Tag%20C`, {
      method: "PUT",
      headers: headers(pms),
    });
    expect((await detail(item.ratingKey)).Collection.map((t: any) => t.tag)).toEqual(["Tag C"]);
  });

  test("long member lists are split so no request line is long", async () => {
    const many = Array.from({ length: 1500 }, (_, i) => String(100000 + i));
    const chunks = memberChunks(pms.machineIdentifier, many);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(many);
    for (const c of chunks)
      expect(
        encodeURIComponent(
          `server://${pms.machineIdentifier}/com.plexapp.plugins.library/library/metadata/${c.join(",")}`,
        ).length,
      ).toBeLessThanOrEqual(6000);
    const from = pms.calls.length;
    const rk = await api.create("1", pms.machineIdentifier, 1, "Long", many);
    const sent = pms.calls.slice(from);
    expect(sent.map((c) => c.method)).toEqual(["POST", ...chunks.slice(1).map(() => "PUT")]);
    expect(sent.every((c) => c.path.length + (c.query ?? "").length < 8000)).toBe(true);
    expect(await api.members(rk)).toEqual([]); // none of those keys exist in PMS: skipped
  });

  test("snapshot and restore take collections with them", async () => {
    const snap = pms.snapshot();
    const rk = await api.create("1", pms.machineIdentifier, 1, "After the backup", [keys[0]!]);
    pms.restore(snap);
    expect((await api.list("1")).some((c) => c.ratingKey === rk)).toBe(false);
    expect((await api.list("1")).some((c) => c.title === "New name")).toBe(true);
  });
});

describe("a provider's Collection tags on a scan", () => {
  let w: World;
  let proxy: ReturnType<typeof Bun.serve>;
  beforeAll(async () => {
    w = await startWorld({ push: false, seed: { scenes: 40 } });
    // The provider's answers with each scene's Stash groups as Collection tags, as a provider
    // with the collection feature serves them (whatever our own provider serves today).
    const upstream = w.app.url!;
    proxy = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const res = await fetch(`${upstream}${url.pathname}${url.search}`, {
          method: req.method,
          headers: req.headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
        });
        if (!res.headers.get("content-type")?.includes("json")) return res;
        const body = (await res.json()) as any;
        for (const m of body?.MediaContainer?.Metadata ?? []) {
          const id = /:\/\/movie\/(\d+)$/.exec(m.guid ?? "")?.[1];
          const scene = id ? w.stash.library.scenes.get(id) : undefined;
          if (!scene) continue;
          m.Collection = scene.groups.length
            ? scene.groups.map((g) => ({ tag: g.group.name, guid: `${IDENTIFIER}://collection/g${g.group.id}` }))
            : undefined;
        }
        return Response.json(body, { status: res.status });
      },
    });
    w.pms.providerUrl = `http://127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => {
    proxy.stop(true);
    await w.close();
  });

  const grouped = () => [...w.stash.library.scenes.values()].filter((s) => s.groups.length);
  const itemOf = (sceneId: string) => [...w.pms.items.values()].find((i) => i.guid.endsWith(`://movie/${sceneId}`))!;
  const refresh = async (rk: string) => {
    await fetch(`${w.pms.url}/library/metadata/${rk}/refresh`, { method: "PUT", headers: headers(w.pms) });
    await w.pms.idle();
  };

  test("a movie section's scan puts items into the group's collection, made once with the provider's guid", async () => {
    await w.pms.scan("1");
    const scenes = grouped();
    expect(scenes.length).toBeGreaterThan(1);
    const byGroup = new Map<string, string[]>();
    for (const s of scenes)
      for (const g of s.groups)
        byGroup.set(g.group.name, [...(byGroup.get(g.group.name) ?? []), itemOf(s.id).ratingKey]);
    const cols = w.pms.collections.inSection("1");
    for (const [name, members] of byGroup) {
      const mine = cols.filter((c) => c.title === name);
      expect(mine.length).toBe(1);
      expect(mine[0]!.members.sort()).toEqual(members.sort());
      expect(mine[0]!.guid).toMatch(/^tv\.plex\.agents\.custom\.stash2plex:\/\//);
    }
    const item = itemOf(scenes[0]!.id);
    const shown = (await (
      await fetch(`${w.pms.url}/library/metadata/${item.ratingKey}`, { headers: headers(w.pms) })
    ).json()) as any;
    expect(shown.MediaContainer.Metadata[0].Collection.map((t: any) => t.tag)).toEqual(
      scenes[0]!.groups.map((g) => g.group.name),
    );
  });

  test("a tag gone from the provider's answer: kept by default, dropped under the option; empty collections stay", async () => {
    const scenes = grouped();
    const title = scenes[0]!.groups[0]!.group.name;
    const inGroup = scenes.filter((s) => s.groups.some((g) => g.group.name === title));
    const col = () => w.pms.collections.inSection("1").find((c) => c.title === title);
    for (const s of inGroup) {
      s.groups = [];
      w.stash.library.update(s.id, {});
    }
    const first = itemOf(inGroup[0]!.id);
    await refresh(first.ratingKey);
    expect(first.fields.Collection).toBeUndefined(); // the provider's answer has no tag now
    expect(col()!.members).toContain(first.ratingKey); // kept (the default)
    w.pms.collections.options.dropOnProviderTagRemoval = true;
    try {
      for (const s of inGroup) await refresh(itemOf(s.id).ratingKey);
      expect(col()!.members).toEqual([]);
      // PMS keeps the emptied collection (LIKELY, evidence §3).
      const listed = (await (
        await fetch(`${w.pms.url}/library/sections/1/collections`, { headers: headers(w.pms) })
      ).json()) as any;
      expect(listed.MediaContainer.Metadata.find((c: any) => c.title === title).childCount).toBe(0);
    } finally {
      w.pms.collections.options.dropOnProviderTagRemoval = false;
    }
  });

  test("a TV section ignores a provider's Collection tags", async () => {
    w.pms.addSection(
      { key: "7", title: "TV", type: "show", agent: "tv.plex.agents.custom.stash2plex", locations: ["/tv"] },
      [],
    );
    const show = w.pms.createItem("7", { title: "Show", type: "show" });
    w.pms.applyPulled(show, { title: "Show", Collection: [{ tag: "Group" }] });
    const ep = w.pms.createItem("7", { title: "Ep", type: "episode", parentRatingKey: undefined });
    w.pms.applyPulled(ep, { title: "Ep", Collection: [{ tag: "Group" }] });
    expect(w.pms.collections.inSection("7")).toEqual([]);
  });
});

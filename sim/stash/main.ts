/**
 * Runs the Stash simulator as its own process (for benchmarks, so it does not share a CPU
 * with what is measured): `bun sim/stash/main.ts <scenes> [seed] [genericShare] [--ordered-pages]
 * [--twins N]`. Prints its URL.
 *
 * --twins N: N pairs of scenes whose files share size and duration, with oshashes a benchmark
 * can write the bytes of (twins.ts: a lever, not a Stash behaviour).
 *
 * --ordered-pages: a page of ALL scenes in id order (findScenes with no ids, no scene filter, no
 * `q`, sorted by id ascending or not at all: every full paging the service does) is cut from an
 * id order computed once per set of ids, instead of sorting the whole library for every page.
 * The answer is the same; the simulator's cost per page no longer grows as N log N (at 200,000
 * scenes a sort is ~45 ms, so paging the library in pages of 250 cost ~40 s of simulator CPU,
 * while Stash answers from its primary key). Off by default: the other benchmarks' figures were
 * taken without it.
 */
import { StashSim } from "./server.ts";
import { makeTwins } from "./twins.ts";

const args = process.argv.slice(2);
const twins = args.includes("--twins") ? Number(args[args.indexOf("--twins") + 1]) : 0;
const [scenes, seed, genericShare] = args
  .filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--twins")
  .map(Number);
const sim = new StashSim({ scenes: scenes ?? 1000, seed: seed ?? 42, genericShare: genericShare ?? 0 });
if (process.argv.includes("--ordered-pages")) orderedPages(sim);
if (twins > 0) makeTwins(sim.library, twins);
sim.start();
console.log(JSON.stringify({ url: sim.url }));
process.on("SIGTERM", () => process.exit(0));

type FindScenes = (args: Record<string, any>) => { count: number; scenes: unknown[] } & Record<string, unknown>;

function orderedPages(sim: StashSim) {
  const target = sim as unknown as { findScenes: FindScenes };
  if (typeof target.findScenes !== "function") throw new Error("StashSim has no findScenes to page in order");
  const original = target.findScenes.bind(sim);
  const lib = sim.library;
  let order: { version: number; ids: string[] } | undefined;
  const idOrder = () => {
    if (order?.version !== lib.version)
      order = { version: lib.version, ids: [...lib.scenes.keys()].sort((a, b) => Number(a) - Number(b)) };
    return order.ids;
  };
  const empty = (filter: unknown) => filter == null || (typeof filter === "object" && !Object.keys(filter).length);
  target.findScenes = (args) => {
    const find = args.filter as { q?: string; sort?: string; direction?: string; page?: number; per_page?: number };
    const whole =
      !args.ids &&
      empty(args.scene_filter) &&
      !find?.q &&
      (find?.sort === undefined || find.sort === "id") &&
      find?.direction !== "DESC";
    if (!whole) return original(args);
    const ids = idOrder();
    const perPage = find?.per_page ?? 25;
    const page = Math.max(1, find?.page ?? 1);
    const slice = perPage < 0 ? ids : ids.slice((page - 1) * perPage, page * perPage);
    // The same scenes the unfiltered, id-sorted answer holds on that page, shaped by the simulator itself.
    return { ...original({ ids: slice, filter: { per_page: -1 } }), count: ids.length };
  };
}

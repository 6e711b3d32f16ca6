/**
 * Runs the Stash simulator as its own process (for benchmarks, so it does not share a CPU
 * with what is measured): `bun sim/stash/main.ts <scenes> [seed] [genericShare]`. Prints its URL.
 */
import { StashSim } from "./server.ts";

const scenes = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? 42);
const genericShare = Number(process.argv[4] ?? 0);
const sim = new StashSim({ scenes, seed, genericShare }).start();
console.log(JSON.stringify({ url: sim.url }));
process.on("SIGTERM", () => process.exit(0));

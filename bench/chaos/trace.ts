/**
 * The soak's own record of what happened, for a run that did not converge: every edit (with the
 * stamp Stash gave it), every fault's start and end, and every pull PMS made of an item (its
 * status and the title it showed after). On failure the driver prints, for each finding, the
 * scene's edits, its Plex items and their pulls, and the PMS calls on those items, in time order
 * (the service's own job history is in the kept run folder). Without it a lost edit is a riddle.
 */
import type { SimItem } from "../../sim/plex/server.ts";
import type { Findings } from "./check.ts";
import type { ChaosWorld } from "./world.ts";

interface Line {
  at: number;
  what: string;
}

export class ChaosTrace {
  private readonly edits = new Map<string, Line[]>();
  private readonly pulls = new Map<string, Line[]>();
  private readonly faults: Line[] = [];

  constructor(private readonly world: ChaosWorld) {
    const before = world.pms.pullHooks.before;
    world.pms.pullHooks.before = async (item) => {
      this.pulled(item, "pull starts");
      await before?.(item);
    };
    world.pms.pullHooks.after = (item, status) =>
      this.pulled(item, `pull ${status}, shows ${JSON.stringify(item.title)}`);
  }

  edit(key: string, kind: string, stamp: string) {
    this.edits.set(key, [...(this.edits.get(key) ?? []), { at: Date.now(), what: `${kind} edit, stamped ${stamp}` }]);
  }

  fault(what: string) {
    this.faults.push({ at: Date.now(), what });
  }

  private pulled(item: SimItem, what: string) {
    const list = this.pulls.get(item.ratingKey) ?? [];
    list.push({ at: Date.now(), what });
    this.pulls.set(item.ratingKey, list);
  }

  /** The story of each finding (`instance:id` keys, and the scenes episode findings name), in time order. */
  story(findings: Findings): string {
    const keys = new Set([...findings.lost.keys(), ...findings.wrong.keys()]);
    for (const line of findings.links) {
      const id = /scene (\d+)/.exec(line)?.[1] ?? /\{s2p-st-(\d+)\}/.exec(line)?.[1];
      if (id) keys.add(`default:${id}`);
    }
    const out: string[] = [`faults:\n${this.faults.map(show).join("\n")}`];
    for (const key of keys) {
      const [instanceId, id] = key.split(":") as [string, string];
      const instance = this.world.instances.find((i) => i.id === instanceId)!;
      const scene = instance.stash.library.scenes.get(id);
      const items = [...this.world.pms.items.values()].filter((i) => {
        const of = this.world.sceneOf(i);
        return of?.instance === instance && of.id === id;
      });
      const lines: Line[] = [...(this.edits.get(key) ?? [])];
      for (const item of items) {
        for (const p of this.pulls.get(item.ratingKey) ?? [])
          lines.push({ at: p.at, what: `item ${item.ratingKey}: ${p.what}` });
        for (const c of this.world.pms.callsFor(item.ratingKey))
          lines.push({ at: c.at, what: `item ${item.ratingKey}: ${c.method} ${c.path}${c.query ?? ""}` });
      }
      lines.sort((a, b) => a.at - b.at);
      out.push(
        `${key}: Stash stamp ${scene?.updated_at}, title ${JSON.stringify(scene?.title)}; Plex items ${items
          .map((i) => `${i.ratingKey} (${i.type ?? "movie"}, ${JSON.stringify(i.title)}, updatedAt ${i.updatedAt})`)
          .join(", ")}\n${lines.map(show).join("\n")}`,
      );
    }
    return out.join("\n\n");
  }
}

const show = (l: Line) => `  ${new Date(l.at).toISOString()} ${l.what}`;

/**
 * The circuit breaker in front of Plex. closed: pushes flow; after `threshold` transient
 * failures in a row it opens and records an outage. open: no pushes; `GET /identity` is
 * probed with growing delays. A good probe makes it half-open: one trial push; success
 * closes it (the outage gets its end and duration), failure opens it again. State lives in
 * SQLite so a restart during an outage does not hammer a Plex that is still down.
 *
 * One breaker per Stash instance (its state in `meta` under `breaker:<instance>`, its outages
 * rows naming the instance), so a later breaker per instance and Plex needs no new table.
 */
import type { Store } from "../store/db.ts";
import { backoffMs } from "./backoff.ts";
import { DEFAULT_INSTANCE_ID } from "../domain/ref.ts";

export type BreakerState = "closed" | "open" | "half-open";

interface Persisted {
  state: BreakerState;
  failures: number;
  probes: number;
  nextProbeAt: number;
  outageId: number | null;
}

export interface BreakerOptions {
  threshold: number;
  probeBaseMs: number;
  probeCapMs: number;
  now?: () => number;
  /** The Stash instance whose pushes it guards; default: the default instance. */
  instance?: string;
}

export interface Outage {
  id: number;
  /** The Stash instance whose pushes waited. */
  instance: string;
  started_at: number;
  ended_at: number | null;
  jobs_waiting: number;
  last_error: string | null;
}

export function createBreaker(store: Store, options: BreakerOptions) {
  const now = options.now ?? Date.now;
  const instance = options.instance ?? DEFAULT_INSTANCE_ID;
  const KEY = `breaker:${instance}`;
  const load = (): Persisted =>
    JSON.parse(store.meta.get(KEY) ?? "null") ?? {
      state: "closed",
      failures: 0,
      probes: 0,
      nextProbeAt: 0,
      outageId: null,
    };
  let s = load();
  const save = () => store.meta.set(KEY, JSON.stringify(s));

  return {
    get state(): BreakerState {
      return s.state;
    },
    /** May a push go out now? (Half-open allows the one trial.) */
    allows: () => s.state !== "open",
    probeDue: () => s.state === "open" && now() >= s.nextProbeAt,
    succeeded() {
      if (s.state === "closed" && s.failures === 0) return;
      if (s.outageId !== null) {
        store.db.query("UPDATE outages SET ended_at = ? WHERE id = ?").run(now(), s.outageId);
      }
      s = { state: "closed", failures: 0, probes: 0, nextProbeAt: 0, outageId: null };
      save();
    },
    failed(error: string, jobsWaiting: number) {
      s.failures++;
      if (s.state === "half-open" || (s.state === "closed" && s.failures >= options.threshold)) {
        if (s.outageId === null) {
          const row = store.db
            .query<{ id: number }, [string, number, number, string]>(
              "INSERT INTO outages (instance, started_at, jobs_waiting, last_error) VALUES (?, ?, ?, ?) RETURNING id",
            )
            .get(instance, now(), jobsWaiting, error)!;
          s.outageId = row.id;
        }
        s.state = "open";
        s.probes = 0;
        s.nextProbeAt = now() + options.probeBaseMs;
      }
      save();
    },
    /** Result of a `GET /identity` probe while open. */
    probed(ok: boolean, jobsWaiting: number, error?: string) {
      if (ok) {
        s.state = "half-open";
      } else {
        s.probes++;
        // Probes back off too, but never wait longer than the cap: Plex is back, we notice soon.
        s.nextProbeAt =
          now() + Math.max(options.probeBaseMs / 2, backoffMs(s.probes + 1, options.probeBaseMs, options.probeCapMs));
        if (s.outageId !== null) {
          store.db
            .query("UPDATE outages SET jobs_waiting = ?, last_error = ? WHERE id = ?")
            .run(jobsWaiting, error ?? null, s.outageId);
        }
      }
      save();
    },
    /** This instance's latest outages, newest first. */
    outages: (limit = 20) =>
      store.db
        .query<Outage, [string, number]>("SELECT * FROM outages WHERE instance = ? ORDER BY id DESC LIMIT ?")
        .all(instance, limit),
  };
}
export type Breaker = ReturnType<typeof createBreaker>;

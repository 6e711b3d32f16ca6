/**
 * The simulated Stash server's clock, as real Stash uses it: `updated_at` is written as an
 * RFC 3339 string in the server's LOCAL time with its offset (Go's time.RFC3339, which writes
 * `Z` for a zero offset), e.g. `2026-11-24T03:03:05-05:00`. The offset can be fixed, switch
 * at a daylight-saving change (so an hour of wall-clock repeats), or be changed at any time
 * (the server's TZ setting changed).
 */
export interface OffsetSwitch {
  /** The instant (ms) at which the offset changes. */
  at: number;
  /** Offsets in minutes east of UTC before and after, e.g. -240 → -300 when EDT ends. */
  from: number;
  to: number;
}

export interface ClockOptions {
  /** Minutes east of UTC (default 0, i.e. `Z`). */
  offsetMinutes?: number;
  /** A daylight-saving change during the run; overrides offsetMinutes. */
  dst?: OffsetSwitch;
  /** The server's notion of now (default Date.now). */
  now?: () => number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Go's time.RFC3339 for `ms` as seen at `offsetMinutes`: second precision, `Z` for UTC. */
export function rfc3339(ms: number, offsetMinutes: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const wall =
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  if (offsetMinutes === 0) return `${wall}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${wall}${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export class StashClock {
  offsetMinutes: number;
  dst?: OffsetSwitch;
  readonly now: () => number;

  constructor(options: ClockOptions = {}) {
    this.offsetMinutes = options.offsetMinutes ?? 0;
    this.dst = options.dst;
    this.now = options.now ?? Date.now;
  }

  offsetAt(ms: number): number {
    if (this.dst) return ms < this.dst.at ? this.dst.from : this.dst.to;
    return this.offsetMinutes;
  }

  /** What Stash writes into updated_at at `ms` (default: now). */
  stamp(ms = this.now()): string {
    return rfc3339(ms, this.offsetAt(ms));
  }

  /** The server's TZ setting changes from now on. */
  setOffset(minutes: number) {
    this.dst = undefined;
    this.offsetMinutes = minutes;
  }
}

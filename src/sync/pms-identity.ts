/**
 * Which fetches of the provider come from the PMS we push to. A push counts as delivered only
 * when that PMS fetches the scene's metadata; anyone can GET /library/metadata/{id} (curl, a
 * monitor, a browser, another PMS), so a fetch counts only when its X-Plex-Client-Identifier
 * is the machineIdentifier our PMS's /identity gives (PMS identifies itself with it), or, when
 * it carries no identifier at all, when its User-Agent is PMS's (PlexMediaServer/…): whether
 * PMS always sends the identifier to providers is unverified, and a push must not fail for it.
 * This keeps accidental fetches from confirming a push; neither is a secret, so it does not
 * stop a deliberate forger (nothing on the provider port can: PMS sends providers no
 * credentials).
 */
import { isPmsUserAgent, type Caller } from "../plex/caller.ts";

/** How often, at most, an unknown identifier makes us ask PMS again (it may have been reinstalled). */
const RELEARN_MS = 60_000;
/**
 * After PMS did not answer: soon again. A fetch carrying an identifier means PMS is up now (it is
 * the one fetching), and a push waiting for that fetch must not wait a minute for our lookup.
 */
const RETRY_AFTER_FAILURE_MS = 2_000;

export function createPmsIdentity(
  identity: () => Promise<{ machineIdentifier: string }>,
  now: () => number = Date.now,
) {
  let known: string | undefined;
  /** When we may ask PMS again. */
  let nextAskAt = -Infinity;
  let asking: Promise<void> | undefined;
  const learn = () =>
    (asking ??= identity()
      .then(
        (id) => {
          known = id.machineIdentifier;
          nextAskAt = now() + RELEARN_MS;
        },
        () => void (nextAskAt = now() + RETRY_AFTER_FAILURE_MS),
      )
      .finally(() => {
        asking = undefined;
      }));
  const knownOurs = (caller: Caller): boolean | undefined => {
    if (!caller.clientIdentifier) return isPmsUserAgent(caller.userAgent);
    return caller.clientIdentifier === known ? true : undefined;
  };
  return {
    /** Learnt lazily, from the first fetch that carries an identifier. */
    get machineIdentifier() {
      return known;
    },
    /**
     * Whether the caller is our PMS, without waiting when that is clear (the known identifier;
     * no identifier: by the User-Agent); undefined when PMS must be asked (isOurs).
     */
    knownOurs,
    /** True at once for the known identifier; otherwise asks PMS (at most once a minute; soon again after a failure) and compares. */
    async isOurs(caller: Caller): Promise<boolean> {
      const clear = knownOurs(caller);
      if (clear !== undefined) return clear;
      if (now() >= nextAskAt) await learn();
      return caller.clientIdentifier === known;
    },
  };
}
export type PmsIdentity = ReturnType<typeof createPmsIdentity>;

/**
 * Which fetches of the provider come from the PMS we push to. A push counts as delivered only
 * when that PMS fetches the scene's metadata; anyone can GET /library/metadata/{id} (curl, a
 * monitor, a browser, another PMS), so a fetch counts only when its X-Plex-Client-Identifier
 * is the machineIdentifier our PMS's /identity gives (PMS identifies itself with it).
 * This keeps accidental fetches from confirming a push; the identifier is not a secret, so it
 * does not stop a deliberate forger (nothing on the provider port can: PMS sends providers no
 * credentials).
 */

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
  return {
    /** Learnt lazily, from the first fetch that carries an identifier. */
    get machineIdentifier() {
      return known;
    },
    /** True at once for the known identifier; otherwise asks PMS (at most once a minute; soon again after a failure) and compares. */
    async isOurs(clientIdentifier: string | undefined): Promise<boolean> {
      if (!clientIdentifier) return false;
      if (clientIdentifier === known) return true;
      if (now() >= nextAskAt) await learn();
      return clientIdentifier === known;
    },
  };
}
export type PmsIdentity = ReturnType<typeof createPmsIdentity>;

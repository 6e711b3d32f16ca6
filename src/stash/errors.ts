/**
 * The three ways a Stash call fails. Callers branch on the kind: `unavailable` is transient
 * (retry, answer 503), `unauthorised` needs the user to fix the API key, `query` is a bug or
 * a schema change on either side. Messages never carry the API key.
 */
export type StashErrorKind = "unavailable" | "unauthorised" | "query";

export class StashError extends Error {
  constructor(
    readonly kind: StashErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "StashError";
  }
}

export const isStashError = (err: unknown, kind?: StashErrorKind): err is StashError =>
  err instanceof StashError && (kind === undefined || err.kind === kind);

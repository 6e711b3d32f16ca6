/**
 * One redaction for everything that leaves the process or is stored: log lines, error
 * answers, health details, errors kept in the database. It removes the configured secrets
 * wherever they appear (Stash or a proxy in front of it may echo them in an error page) and
 * the credentials of any URL (`http://user:pw@host` → `http://host`).
 */
export type Redact = (text: string) => string;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

export function createRedactor(secrets: (string | undefined)[]): Redact {
  // Short values would blank out ordinary words; config requires secrets longer than this anyway.
  const values = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  return (text: string) => values.reduce((t, s) => t.replaceAll(s, "[redacted]"), text).replace(URL_CREDENTIALS, "$1");
}

/** A URL as it may be shown: without user name and password. */
export const withoutCredentials = (url: string): string => url.replace(URL_CREDENTIALS, "$1");

/** The secrets inside a URL's credentials, so they are redacted even where they appear alone. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    return [decodeURIComponent(u.password), decodeURIComponent(u.username)].filter(Boolean);
  } catch {
    return [];
  }
}

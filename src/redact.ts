/**
 * One redaction for everything that leaves the process or is stored: log lines, error
 * answers, health details, errors kept in the database. It removes the configured secrets
 * wherever they appear (Stash or a proxy in front of it may echo them in an error page) and
 * the credentials of any URL (`http://user:pw@host` → `http://host`).
 */
import { isIP } from "node:net";

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

const IPV4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g;
/** An IPv6 address in brackets (a URL's host, maybe with a port), or bare: checked with isIP below. */
const IPV6 =
  /\[([0-9a-f:.]+(?:%[\w.-]+)?)\](?::\d{1,5})?|(?<![\w:])((?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}))(?:%[\w.-]+)?(?![\w:]|\.\d)/gi;

/**
 * A dotted quad that is a version, not an address: PMS's `1.43.0.104-121068a07` (a build hash
 * follows). Anything else shaped like an address goes: a version lost is better than an address kept.
 */
const isVersion = (text: string, at: number, match: string) => /^-[0-9a-f]{6,}/i.test(text.slice(at + match.length));

/**
 * Every IPv4 and IPv6 address in a text replaced by `placeholder`, with its port when it has
 * one, so a report can be shared without the network's layout. Version numbers shaped like an
 * address (PMS's `1.43.0.104-…`) are kept.
 */
export function redactAddresses(text: string, placeholder = "<lan-address>"): string {
  const v6 = text.replace(IPV6, (match: string, bracketed?: string, bare?: string) => {
    const address = (bracketed ?? bare ?? "").replace(/%.*$/, "");
    return isIP(address) === 6 || isIP(address) === 4 ? placeholder : match;
  });
  const v4 = v6.replace(IPV4, (match: string, at: number, whole: string) =>
    isVersion(whole, at, match) ? match : placeholder,
  );
  // The port after an address replaced just now is the address's (`192.168.1.5:32400`).
  return v4.replaceAll(new RegExp(`${escapeRegExp(placeholder)}:\\d{1,5}(?!\\d)`, "g"), placeholder);
}

/**
 * The hosts of URLs (PLEX_URL, STASH_URL, PUBLIC_URL…) replaced by a placeholder each: `host:port`
 * wherever it appears; a host name with a dot (`nas.home.lan`) or an address wherever it stands
 * alone; a one-word name (`plex`, `localhost`) only as a URL's host, since the word itself is common
 * ("tv.plex.agents…").
 */
export function hostRedactor(urls: { url: string; placeholder: string }[]): Redact {
  const rules: [RegExp, string][] = [];
  const hosts = urls.flatMap(({ url, placeholder }) => {
    try {
      const u = new URL(url);
      return u.hostname ? [{ host: u.host, hostname: u.hostname.replace(/^\[|\]$/g, ""), placeholder }] : [];
    } catch {
      return [];
    }
  });
  // host:port first, for every URL: two services on one machine differ only by their ports.
  for (const h of hosts)
    if (h.host.includes(":") && !h.host.endsWith("]"))
      rules.push([new RegExp(escapeRegExp(h.host), "gi"), h.placeholder]);
  for (const h of hosts) {
    const name = escapeRegExp(h.hostname);
    const alone = h.hostname.includes(".") || h.hostname.includes(":");
    rules.push([
      alone
        ? new RegExp(`(?<![\\w.-])\\[?${name}\\]?(?![\\w-]|\\.\\w)`, "gi")
        : new RegExp(`(?<=//|@)${name}(?![\\w.-])`, "gi"),
      h.placeholder,
    ]);
  }
  return (text) => rules.reduce((t, [pattern, placeholder]) => t.replace(pattern, placeholder), text);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

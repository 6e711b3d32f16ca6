/**
 * Who fetched from our provider, as far as the request says: PMS names itself by
 * X-Plex-Client-Identifier (its /identity machineIdentifier) and by its User-Agent
 * (`PlexMediaServer/<version>`). Whether it always sends the identifier to providers is
 * unverified (a provider's authors report requests without it), so both are kept.
 */
export interface Caller {
  clientIdentifier?: string;
  userAgent?: string;
}

export const callerOf = (headers: Headers): Caller => ({
  clientIdentifier: headers.get("x-plex-client-identifier") || undefined,
  userAgent: headers.get("user-agent") || undefined,
});

/** A User-Agent PMS sends (curl, browsers and monitors send others). */
export const isPmsUserAgent = (userAgent: string | undefined) => /^PlexMediaServer\//i.test(userAgent ?? "");

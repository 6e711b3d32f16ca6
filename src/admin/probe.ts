/**
 * `GET /api/provider-requests?after=<id>`: the requests PMS made to the providers lately
 * (provider/request-log.ts), for `stash2plex probe`. It shows request headers, so it needs the
 * admin token even where ADMIN_OPEN_READS opens the other reads.
 */
import { Elysia } from "elysia";
import type { Redact } from "../redact.ts";
import { createRequestLog } from "../provider/request-log.ts";
import type { Access } from "./access.ts";
import { wholeNumber } from "./status.ts";

export const providerRequestsPlugin = (options: { access: Access; redact: Redact; size?: number }) => {
  const log = createRequestLog({ redact: options.redact, size: options.size });
  return new Elysia({ name: "provider-requests" })
    .use(log.plugin)
    .get("/api/provider-requests", ({ request, query }) => {
      options.access.requireAdmin(request.headers, "reading PMS's requests to the provider");
      return log.since(wholeNumber(query, "after", 0, 0, 9_999_999_999));
    });
};

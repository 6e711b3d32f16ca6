/**
 * `check`'s write-back lines (issue 21), when write-back is on: PMS answers with the token, the
 * server owner's account is there, every allow-listed user is an account of this server, and the
 * webhook URL to paste into Plex (the token's setting named, never its value).
 */
import type { Config } from "../config/schema.ts";
import { createPmsWatch } from "../writeback/pms-watch.ts";
import { OWNER_ACCOUNT_ID } from "../writeback/rules.ts";
import type { CheckLine } from "./check.ts";

/** The Plex webhook URL as the user pastes it, the token left as a placeholder. */
export const webhookUrlShown = (publicUrl: string) => `${publicUrl}/hooks/plex?token=<WRITEBACK_WEBHOOK_TOKEN>`;

export async function writebackLines(config: Config): Promise<CheckLine[]> {
  const wb = config.writeback;
  if (!wb.enabled) return [];
  if (!config.plex.url || !config.plex.token)
    return [
      { ok: false, what: "write-back", detail: "needs Plex: set PLEX_URL and PLEX_TOKEN (or WRITEBACK_ENABLED=false)" },
    ];
  const lines: CheckLine[] = [];
  let accounts: Map<string, string>;
  try {
    accounts = await createPmsWatch(config.plex).accounts();
  } catch (err) {
    return [
      {
        ok: false,
        what: "write-back",
        detail: `cannot read Plex's accounts with the token: ${(err as Error).message} — check PLEX_URL and PLEX_TOKEN`,
      },
    ];
  }
  const listed = [...accounts].map(([id, name]) => `${name} (#${id})`).join(", ") || "none";
  const owner = accounts.get(OWNER_ACCOUNT_ID);
  lines.push(
    owner !== undefined
      ? { ok: true, what: "write-back owner", detail: `Plex's server owner is ${owner} (#${OWNER_ACCOUNT_ID})` }
      : { ok: false, what: "write-back owner", detail: `PMS lists no owner account (#1); it has ${listed}` },
  );
  if (wb.users.length === 0) {
    lines.push({
      ok: true,
      what: "write-back users",
      detail: `only the server owner's viewing counts (list others in WRITEBACK_USERS)`,
    });
  }
  for (const user of wb.users) {
    const found = [...accounts].find(([id, name]) => id === user || name.toLowerCase() === user.toLowerCase());
    lines.push(
      found
        ? { ok: true, what: `write-back user ${user}`, detail: `an account of this server: ${found[1]} (#${found[0]})` }
        : {
            ok: false,
            what: `write-back user ${user}`,
            detail: `no account of this Plex server has that id or name; it has ${listed}`,
          },
    );
  }
  if (wb.notifications) {
    const path = await createPmsWatch(config.plex).streamPath();
    lines.push(
      path
        ? { ok: true, what: "write-back notifications", detail: `PMS's notification stream opens at ${path}` }
        : {
            ok: false,
            what: "write-back notifications",
            detail: `PMS's notification stream did not open (at /:/websockets/notifications nor /:/websocket/notifications): viewings arrive through the watch history every ${wb.catchUpSeconds} s instead, or set WRITEBACK_NOTIFICATIONS=false`,
          },
    );
  }
  lines.push(
    wb.webhookToken
      ? {
          ok: true,
          what: "write-back webhook",
          detail: `add ${webhookUrlShown(config.publicUrl)} in Plex (Settings → Webhooks, needs Plex Pass), with the token you set in WRITEBACK_WEBHOOK_TOKEN`,
        }
      : {
          ok: true,
          level: "note",
          what: "write-back webhook",
          detail: "off (WRITEBACK_WEBHOOK_TOKEN not set): PMS's notifications and its watch history bring the events",
        },
  );
  return lines;
}

/**
 * A small structured logger: JSON lines in containers (no TTY), readable lines on a
 * terminal. Secret values are redacted wherever they appear, by value and by field name,
 * so a token that leaks into an error message still never reaches the log.
 */
import { createRedactor } from "./redact.ts";
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /token|apikey|api_key|password|secret/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * The one line that must show a secret (a generated admin token, once): not redacted, and in
   * the log's format (one JSON object when the log is JSON, so a log shipper still parses it).
   */
  showOnce(msg: string): void;
  redact(text: string): string;
}

export interface LoggerOptions {
  level: Level;
  format: "auto" | "json" | "pretty";
  secrets?: string[];
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const redact = createRedactor(options.secrets ?? []);
  const json = options.format === "json" || (options.format === "auto" && !process.stdout.isTTY);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clean = (fields: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [
        k,
        SECRET_FIELD.test(k)
          ? "[redacted]"
          : typeof v === "string"
            ? redact(v)
            : v instanceof Error
              ? redact(v.message)
              : v,
      ]),
    );

  const log =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[level] < ORDER[options.level]) return;
      const safe = clean(fields);
      if (json) {
        write(redact(JSON.stringify({ time: localTime(), level, msg, ...safe })));
      } else {
        const extra = Object.entries(safe)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" ");
        write(
          redact(`${localTime().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ""}`),
        );
      }
    };
  const showOnce = (msg: string) =>
    write(json ? JSON.stringify({ time: localTime(), level: "info", msg }) : `\n  ${msg}\n`);
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), showOnce, redact };
}

/**
 * A log time in the process's time zone (TZ), with its offset: `2026-11-24T10:03:05.123+01:00`.
 * Containers default to UTC (`Z`); a NAS user who sets TZ reads the times of their own clock.
 */
export function localTime(date = new Date()): string {
  const offset = -date.getTimezoneOffset();
  const wall = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
  if (offset === 0) return `${wall}Z`;
  const abs = Math.abs(offset);
  return `${wall}${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

export const silentLogger: Logger = createLogger({ level: "error", format: "json", write: () => {} });

/** The config as it may be shown: secrets replaced by whether they are set. */
import type { Config } from "./schema.ts";
import { secretKeys } from "./settings.ts";

export function redactedConfig(config: Config): unknown {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, secretKeys.has(k) ? (v ? "(set)" : "(empty)") : walk(v)]),
      );
    }
    return value;
  };
  return walk(config);
}

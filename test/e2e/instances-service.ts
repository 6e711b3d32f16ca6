/**
 * The providers of every Stash instance on one server, built as the service builds them
 * (src/provider/instance.ts). Stands in for createApp until the provider plugin wires them.
 */
import { Elysia } from "elysia";
import type { Config } from "../../src/config/schema.ts";
import { instancesOf } from "../../src/config/instances.ts";
import { createInstanceProvider, type InstanceProviderOptions } from "../../src/provider/instance.ts";
import { httpBasics } from "../../src/http.ts";
import type { Logger } from "../../src/log.ts";

export async function startInstances(config: Config, log: Logger, onServed?: InstanceProviderOptions["onServed"]) {
  const providers = instancesOf(config).map((instance) => createInstanceProvider(config, instance, { log, onServed }));
  let http = new Elysia().use(httpBasics(log));
  for (const p of providers) http = http.use(p.routes) as unknown as typeof http;
  for (const p of providers) await p.job.run();
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => http.handle(req) });
  return {
    providers,
    url: `http://127.0.0.1:${server.port}`,
    stop: async () => {
      await server.stop(true);
      for (const p of providers) p.index.close();
    },
  };
}

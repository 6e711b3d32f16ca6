/**
 * Stash's plugin task interface, as the simulator serves it: `runPluginTask(plugin_id,
 * task_name, args_map)` reads the plugin's YAML, applies the task's defaultArgs, runs its
 * `exec` with the plugin input on stdin (server connection + args), and keeps what the
 * plugin logged (\x01<level>\x02 lines on stderr) and printed, like Stash's task log.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export interface PluginJob {
  id: string;
  plugin: string;
  task: string;
  args: Record<string, unknown>;
  /** What Stash would show in its log: [level, message]. */
  log: [string, string][];
  output: unknown;
  done: Promise<void>;
}

interface PluginConfig {
  exec: string[];
  tasks?: { name: string; defaultArgs?: Record<string, unknown> }[];
}

export class SimPlugins {
  jobs: PluginJob[] = [];
  constructor(private readonly dir: string, private readonly connection: () => Record<string, unknown>) {}

  run(pluginId: string, taskName: string, argsMap: Record<string, unknown> = {}): string {
    const config = parse(readFileSync(join(this.dir, `${pluginId}.yml`), "utf8")) as PluginConfig;
    const task = config.tasks?.find((t) => t.name === taskName);
    if (!task) throw new Error(`plugin ${pluginId} has no task "${taskName}"`);
    const args = { ...task.defaultArgs, ...argsMap };
    const id = String(this.jobs.length + 1);
    const exec = config.exec.map((part) => part.replace("{pluginDir}", this.dir));
    const job: PluginJob = { id, plugin: pluginId, task: taskName, args, log: [], output: undefined, done: Promise.resolve() };
    job.done = (async () => {
      const proc = Bun.spawn(exec, { stdin: new TextEncoder().encode(JSON.stringify({ server_connection: this.connection(), args })), stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      for (const line of err.split("\n").filter(Boolean)) {
        const m = /^\x01(\w)\x02(.*)$/.exec(line);
        job.log.push(m ? [m[1]!, m[2]!] : ["e", line]);
      }
      try {
        job.output = JSON.parse(out);
      } catch {
        job.output = out;
      }
    })();
    this.jobs.push(job);
    return id;
  }
}

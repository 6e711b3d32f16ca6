/**
 * Stash's plugin runner, as the simulator serves it. A task (`runPluginTask(plugin_id,
 * task_name, args_map)`) reads the plugin's YAML, applies the task's defaultArgs and runs its
 * `exec` with the plugin input on stdin (server connection + args); a hook runs every plugin
 * whose `triggeredBy` names the event, with `args.hookContext` = {id, type, input, inputFields},
 * as Stash's hook executor does. What the plugin writes to stderr goes to Stash's log
 * (\x01<level>\x02 lines, each behind "[Plugin / <name>] "; \x01p\x02 moves the task's progress), and of its output JSON the
 * `error` is logged at error level and the `output` at debug level, as Stash documents: there
 * is no separate task log, only Stash's log (Settings → Logs).
 * `runPluginOperation(plugin_id, args)` runs the plugin at once outside the job queue and answers
 * its output, as Stash's schema describes it (../shared/stash-schema/schema.graphql).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** Every hook trigger Stash fires (its pkg/plugin/hook/hooks.go); a scene merge fires none. */
export const STASH_HOOK_TRIGGERS = [
  "SceneMarker.Create.Post",
  "SceneMarker.Update.Post",
  "SceneMarker.Destroy.Post",
  "Scene.Create.Post",
  "Scene.Update.Post",
  "Scene.Destroy.Post",
  "Image.Create.Post",
  "Image.Update.Post",
  "Image.Destroy.Post",
  "Gallery.Create.Post",
  "Gallery.Update.Post",
  "Gallery.Destroy.Post",
  "GalleryChapter.Create.Post",
  "GalleryChapter.Update.Post",
  "GalleryChapter.Destroy.Post",
  "Movie.Create.Post",
  "Movie.Update.Post",
  "Movie.Destroy.Post",
  "Group.Create.Post",
  "Group.Update.Post",
  "Group.Destroy.Post",
  "Performer.Create.Post",
  "Performer.Update.Post",
  "Performer.Destroy.Post",
  "Studio.Create.Post",
  "Studio.Update.Post",
  "Studio.Destroy.Post",
  "Tag.Create.Post",
  "Tag.Update.Post",
  "Tag.Merge.Post",
  "Tag.Destroy.Post",
] as const;

export interface PluginJob {
  id: string;
  plugin: string;
  /** The task's name, or the hook's. */
  task: string;
  args: Record<string, unknown>;
  /** What Stash would show in its log: [level, message]. */
  log: [string, string][];
  /** The progress values the plugin reported (0–1). */
  progress: number[];
  output: unknown;
  done: Promise<void>;
}

interface PluginConfig {
  name: string;
  exec: string[];
  tasks?: { name: string; defaultArgs?: Record<string, unknown> }[];
  hooks?: { name: string; triggeredBy?: string[]; defaultArgs?: Record<string, unknown> }[];
}

export class SimPlugins {
  jobs: PluginJob[] = [];
  constructor(
    private readonly dir: string,
    private readonly connection: () => Record<string, unknown>,
  ) {}

  private config(pluginId: string): PluginConfig {
    return parse(readFileSync(join(this.dir, `${pluginId}.yml`), "utf8")) as PluginConfig;
  }

  /** The ids of the installed plugins (one YAML each, as in Stash's plugins folder). */
  installed(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => f.slice(0, -4));
  }

  /** Triggers a plugin declares that Stash never fires (Stash ignores them silently). */
  unknownTriggers(pluginId: string): string[] {
    const known = new Set<string>(STASH_HOOK_TRIGGERS);
    return (this.config(pluginId).hooks ?? []).flatMap((h) => h.triggeredBy ?? []).filter((t) => !known.has(t));
  }

  run(pluginId: string, taskName: string, argsMap: Record<string, unknown> = {}): string {
    const config = this.config(pluginId);
    const task = config.tasks?.find((t) => t.name === taskName);
    if (!task) throw new Error(`plugin ${pluginId} has no task "${taskName}"`);
    return this.start(pluginId, config, taskName, { ...task.defaultArgs, ...argsMap }).id;
  }

  /**
   * `runPluginOperation(plugin_id, args)`: the plugin run at once with these args only (no task's
   * defaultArgs), outside the job queue; Stash answers with the plugin's output.
   */
  async operation(pluginId: string, args: Record<string, unknown>): Promise<unknown> {
    const job = this.start(pluginId, this.config(pluginId), "operation", args);
    await job.done;
    return job.output;
  }

  /** A scene (or other object) event: runs every hook that names it; returns the jobs started. */
  hook(type: string, id: number, input: unknown = {}): PluginJob[] {
    const started: PluginJob[] = [];
    for (const pluginId of this.installed()) {
      const config = this.config(pluginId);
      for (const hook of config.hooks ?? []) {
        if (!hook.triggeredBy?.includes(type)) continue;
        const inputFields = input && typeof input === "object" ? Object.keys(input) : [];
        started.push(
          this.start(pluginId, config, hook.name, {
            ...hook.defaultArgs,
            hookContext: { id, type, input, inputFields },
          }),
        );
      }
    }
    return started;
  }

  private start(pluginId: string, config: PluginConfig, name: string, args: Record<string, unknown>): PluginJob {
    const exec = config.exec.map((part) => part.replace("{pluginDir}", this.dir));
    const job: PluginJob = {
      id: String(this.jobs.length + 1),
      plugin: pluginId,
      task: name,
      args,
      log: [],
      progress: [],
      output: undefined,
      done: Promise.resolve(),
    };
    job.done = (async () => {
      const proc = Bun.spawn(exec, {
        stdin: new TextEncoder().encode(JSON.stringify({ server_connection: this.connection(), args })),
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      for (const line of err.split("\n").filter(Boolean)) {
        const m = /^\x01(\w)\x02(.*)$/.exec(line);
        // Stash's prefix; a line without a level is logged at error level (PluginErrLogLevel's default).
        if (m?.[1] === "p") job.progress.push(Number(m[2]));
        else
          job.log.push(m ? [m[1]!, `[Plugin / ${config.name}] ${m[2]!}`] : ["e", `[Plugin / ${config.name}] ${line}`]);
      }
      try {
        job.output = JSON.parse(out);
      } catch {
        job.output = out;
      }
      const result = (job.output ?? {}) as { error?: unknown; output?: unknown };
      if (result.error) job.log.push(["e", `Plugin returned error: ${String(result.error)}`]);
      if (result.output !== undefined)
        job.log.push(["d", typeof result.output === "string" ? result.output : JSON.stringify(result.output)]);
    })();
    this.jobs.push(job);
    return job;
  }
}

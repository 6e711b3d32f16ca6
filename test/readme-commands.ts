/**
 * The commands shown in the README's shell code blocks, read the way a shell reads them (for
 * the subset the README uses): `\` continuations, `#` comments, `&&` chains, VAR=value
 * assignments, single and double quotes, $VAR and ${VAR}. A trailing `# exit N` comment is the
 * exit code the README promises (0 when none is given). Pure: no I/O.
 */

export interface ShownCommand {
  /** The line as the README shows it (without its comment). */
  text: string;
  /** Words after quote removal and variable expansion. */
  words: string[];
  /** The exit code the README documents for it. */
  exit: number;
  /** Where it is: the README line of its block. */
  line: number;
}

export interface CodeBlock {
  lang: string;
  body: string;
  line: number;
}

/** Every fenced code block, with its language and the line it starts on. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!.toLowerCase(), body: body.join("\n"), line: start + 1 });
  }
  return blocks;
}

export const isShell = (block: CodeBlock) => ["sh", "bash", "shell", "console"].includes(block.lang);

/** Splits off an unquoted `#` comment. */
function splitComment(line: string): [string, string] {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return [line.slice(0, i), line.slice(i + 1)];
  }
  return [line, ""];
}

/** Words of one simple command, quotes removed and variables expanded; `&&` ends a command. */
export function words(text: string, vars: Record<string, string>): string[][] {
  const commands: string[][] = [[]];
  let word = "";
  let inWord = false;
  const expand = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => vars[a ?? b] ?? "");
  let i = 0;
  const end = () => {
    if (inWord) commands.at(-1)!.push(word);
    word = "";
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      end();
      i++;
    } else if (c === "&" && text[i + 1] === "&") {
      end();
      commands.push([]);
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unclosed ' in: ${text}`);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) throw new Error(`unclosed " in: ${text}`);
      word += expand(text.slice(i + 1, close));
      inWord = true;
      i = close + 1;
    } else {
      const m = /^[^\s'"&]+/.exec(text.slice(i))!;
      word += expand(m[0]);
      inWord = true;
      i += m[0].length;
    }
  }
  end();
  return commands.filter((c) => c.length > 0);
}

/**
 * The commands of one shell block, in order. Assignments (`VAR=value` alone on a line) update
 * the variables; `fixed` ones are kept whatever the README assigns (a value only the running
 * demo knows, like its port).
 */
export function shownCommands(
  block: CodeBlock,
  vars: Record<string, string>,
  fixed: Record<string, string> = {},
): ShownCommand[] {
  const out: ShownCommand[] = [];
  const joined = block.body.replace(/\\\n/g, " ").split("\n");
  Object.assign(vars, fixed);
  for (const raw of joined) {
    const [code, comment] = splitComment(raw);
    if (!code.trim()) continue;
    const assignment = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(code);
    if (assignment && !/\s/.test(assignment[2]!.trim().replace(/"[^"]*"|'[^']*'/g, ""))) {
      const [name, value] = [assignment[1]!, assignment[2]!.trim()];
      if (!(name in fixed)) vars[name] = words(value, vars)[0]?.[0] ?? "";
      continue;
    }
    const exit = Number(/^\s*exit (\d+)/.exec(comment)?.[1] ?? 0);
    for (const w of words(code, vars)) out.push({ text: code.trim(), words: w, exit, line: block.line });
  }
  return out;
}

export interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** -O / -o: the answer is saved to a file. */
  download: boolean;
}

/** A curl command line as a fetch request (the options the README uses). */
export function curlRequest(args: string[]): CurlRequest {
  const request: CurlRequest = { method: "GET", url: "", headers: {}, download: false };
  let explicitMethod = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-X" || a === "--request") {
      request.method = args[++i]!;
      explicitMethod = true;
    } else if (a === "-H" || a === "--header") {
      const [name, ...rest] = args[++i]!.split(":");
      request.headers[name!.trim().toLowerCase()] = rest.join(":").trim();
    } else if (a === "-d" || a === "--data" || a === "--data-raw") {
      request.body = args[++i]!;
      if (!explicitMethod) request.method = "POST";
    } else if (a === "-I" || a === "--head") request.method = "HEAD";
    else if (a === "-O" || a === "--remote-name") request.download = true;
    else if (a === "-o" || a === "--output") {
      request.download = true;
      i++;
    } else if (
      /^-[sSfLvk]+$/.test(a) ||
      a === "--silent" ||
      a === "--fail" ||
      a === "--show-error" ||
      a === "--location"
    )
      continue;
    else if (a.startsWith("-")) throw new Error(`curl option ${a} is not one this test knows`);
    else request.url = a;
  }
  if (!request.url) throw new Error(`curl without a URL: ${args.join(" ")}`);
  return request;
}

/**
 * Entry of `atbridge pub|sub|rr` (also reached as mosquitto_pub/_sub/_rr through a link of that
 * name): mosquitto's option parsing, messages and exit codes. `--help` and `--version` print and
 * exit 1, a usage error prints mosquitto's line, "Use '<name> --help' to see usage." and exits 1.
 */
import { VERSION } from '../../version.js';
import { parseMosqArgs, type Tool } from './mosq-args.js';
import { MosqUsageError } from './mosq-errors.js';
import { usageText } from './mosq-usage.js';

export const TOOLS: Record<string, Tool> = { pub: 'pub', sub: 'sub', rr: 'rr', mosquitto_pub: 'pub', mosquitto_sub: 'sub', mosquitto_rr: 'rr' };

/** Runs one tool; `name` is how the user called it ("atbridge sub" or "mosquitto_sub"). Resolves to the exit code. */
export async function runTool(tool: Tool, name: string, argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseMosqArgs(tool, argv);
  } catch (err) {
    if (!(err instanceof MosqUsageError)) throw err;
    process.stderr.write(err.text);
    process.stderr.write(`\nUse '${name} --help' to see usage.\n`);
    return 1;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(usageText(tool, name, VERSION));
    return 1;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${name} version ${VERSION} (atbridge; mosquitto 2.0.11 options).\n`);
    return 1;
  }
  const cfg = parsed.config;
  try {
    if (cfg.tls.engine !== undefined) {
      process.stderr.write(`Error: Problem setting TLS engine, is ${cfg.tls.engine} a valid engine?\n`);
      return 1;
    }
    if (tool === 'pub') {
      const { runPub } = await import('./mosq-pub.js');
      return await runPub(cfg, () => process.stdout.write(usageText(tool, name, VERSION)));
    }
    if (tool === 'sub') {
      const { runSub } = await import('./mosq-sub.js');
      return await runSub(cfg);
    }
    const { runRr } = await import('./mosq-rr.js');
    return await runRr(cfg, name);
  } catch (err) {
    // One line, never a stack trace (ATBRIDGE_DEBUG=1 shows it).
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.ATBRIDGE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}

/**
 * Entry of `atbridge pub|sub|rr` (also reached as mosquitto_pub/_sub/_rr through a link of that
 * name): mosquitto's option parsing, messages and exit codes. `--help` and `--version` print and
 * exit 1, a usage error prints mosquitto's line, "Use '<name> --help' to see usage." and exits 1.
 */
import { existsSync } from 'node:fs';
import { checkWritableFile } from '../../cli/output-paths.js';
import { AtbridgeError } from '../../errors.js';
import { VERSION } from '../../version.js';
import { parseMosqArgs, type MosqConfig, type Tool } from './mosq-args.js';
import { MosqUsageError } from './mosq-errors.js';
import { runPub } from './mosq-pub.js';
import { runRr } from './mosq-rr.js';
import { runSub } from './mosq-sub.js';
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
  // atbridge's own --trace: checked before connecting, in atbridge's words and exit code (usage, 2).
  const trace = cfg.modem['--trace'];
  try {
    if (typeof trace === 'string') checkWritableFile(trace);
  } catch (err) {
    if (!(err instanceof AtbridgeError)) throw err;
    process.stderr.write(`atbridge: ${err.message}\n`);
    return err.exitCode;
  }
  try {
    const tlsProblem = tlsOptionsProblem(cfg);
    if (tlsProblem) {
      process.stderr.write(tlsProblem);
      return 1;
    }
    // Static imports: one bundle chunk fewer for the ESM loader to fetch before the first packet.
    if (tool === 'pub') return await runPub(cfg, () => process.stdout.write(usageText(tool, name, VERSION)));
    if (tool === 'sub') return await runSub(cfg);
    return await runRr(cfg, name);
  } catch (err) {
    // One line, never a stack trace (ATBRIDGE_DEBUG=1 shows it).
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.ATBRIDGE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}

/** What mosquitto's library refuses when the TLS options are applied (before connecting), in its words. */
function tlsOptionsProblem(cfg: MosqConfig): string | undefined {
  const t = cfg.tls;
  if (t.noTls) return undefined;
  if (t.cafile !== undefined || t.capath !== undefined) {
    const missing = [t.cafile, t.capath, t.cert, t.key].some((f) => f !== undefined && !existsSync(f));
    if (missing) return 'Error: Problem setting TLS options: File not found.\n';
  } else if (t.psk !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(t.psk)) {
    return 'Error: Problem setting TLS-PSK options.\n';
  }
  if (t.engine !== undefined) return `Error: Problem setting TLS engine, is ${t.engine} a valid engine?\n`;
  if (t.keyform !== undefined && t.keyform !== 'pem' && t.keyform !== 'engine') return "Error: Problem setting key form, it must be one of 'pem' or 'engine'.\n";
  if (t.tlsVersion !== undefined && !['tlsv1.3', 'tlsv1.2', 'tlsv1.1'].includes(t.tlsVersion)) return 'Error: Problem setting TLS options, check the options are valid.\n';
  return undefined;
}

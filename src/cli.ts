#!/usr/bin/env node
import { readdirSync } from 'node:fs';
import { Command, CommanderError, type Option } from 'commander';
import { AtbridgeError, ExitCode } from './errors.js';
import { endQuietlyWhenOutputCloses } from './cli/closed-output.js';
import { checkOutputOptions } from './cli/output-paths.js';
import { reportError } from './cli/run.js';
import { listProfileIds } from './profile/index.js';
import { VERSION } from './version.js';

/** Order in --help; each command lives in src/cli/commands/<name>.ts and registers itself. */
const ORDER = ['demo', 'pub', 'sub', 'rr', 'bridge', 'nc', 'doctor', 'ports', 'decode', 'record', 'replay', 'emulate', 'emulate-ctl'];

/**
 * The command modules to load: only the named command's when the first argument names one (a
 * decode need not load the broker, serial and MQTT stacks: faster start, less memory), else all.
 */
function commandModules(argv: string[]): string[] {
  const dir = new URL('./cli/commands/', import.meta.url);
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3));
  const named = argv.slice(2)[0];
  const names = named !== undefined && all.includes(named) ? [named] : all;
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((n) => new URL(`${n}.js`, dir).href);
}

async function main(argv: string[]): Promise<void> {
  // pub, sub and rr parse their own options as mosquitto's clients do (and exit 1 on --help, as they do).
  const first = argv[2];
  if (first === 'pub' || first === 'sub' || first === 'rr') {
    const { runTool } = await import('./mqtt/cli/mosq-main.js');
    process.exitCode = await runTool(first, `atbridge ${first}`, argv.slice(3));
    return;
  }
  // `atbridge help pub` is `atbridge pub --help` (its own options, as mosquitto_pub lists them), exit 0 as help is.
  const tool = argv[3];
  if (first === 'help' && (tool === 'pub' || tool === 'sub' || tool === 'rr') && argv.length === 4) {
    const { usageText } = await import('./mqtt/cli/mosq-usage.js');
    process.stdout.write(usageText(tool, `atbridge ${tool}`, VERSION));
    return;
  }
  const program = new Command('atbridge')
    .description(`Drive cellular and Wi-Fi modules over AT commands and carry MQTT through their TCP socket (families: ${listProfileIds().join(', ')})`)
    .version(VERSION, '--version')
    .helpOption('--help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'atbridge: ')) });
  for (const href of commandModules(argv)) {
    const mod = (await import(href)) as { default: (program: Command) => void };
    mod.default(program);
  }
  // The one place every command's options are checked before its action runs: a path it would
  // write (--trace, --trace-dir, --html, --pcap, --out, --jtl) that cannot be written is one line
  // and exit 2 before any work starts, not a trace silently lost after the run.
  // Commander checks required options before unknown ones: a mistyped `--profle` would be
  // reported as a missing `--profile`. They are checked here instead, after the unknown options.
  const required = new Map<Command, Option[]>();
  for (const command of program.commands) {
    const mandatory = command.options.filter((o) => o.mandatory);
    for (const o of mandatory) o.mandatory = false;
    if (mandatory.length > 0) required.set(command, mandatory);
  }
  program.hook('preAction', (_program, command) => {
    for (const o of required.get(command) ?? []) {
      if (command.getOptionValue(o.attributeName()) === undefined) {
        throw new AtbridgeError('bad-option', `required option '${o.flags}' not specified`, { exitCode: ExitCode.usage });
      }
    }
    checkOutputOptions(command.opts());
  });
  try {
    // `-h` is the broker host inside pub/sub (as in mosquitto_pub); on its own it can only mean help.
    await program.parseAsync(argv.length === 3 && argv[2] === '-h' ? [...argv.slice(0, 2), '--help'] : argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    process.exitCode = reportError(err);
  }
}

endQuietlyWhenOutputCloses();
await main(process.argv);

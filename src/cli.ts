#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode } from './errors.js';
import { reportError } from './cli/run.js';
import { VERSION } from './version.js';

/** Each command lives in src/cli/commands/<name>.ts and registers itself on the program. */
const COMMANDS: (() => Promise<{ default: (program: Command) => void }>)[] = [];

async function main(argv: string[]): Promise<void> {
  const program = new Command('atbridge')
    .description('Drive SIM7600 and ESP-AT modules over AT commands and carry MQTT through their TCP socket')
    .version(VERSION, '--version')
    .helpOption('--help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'atbridge: ')) });
  for (const load of COMMANDS) (await load()).default(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    process.exitCode = reportError(err);
  }
}

await main(process.argv);

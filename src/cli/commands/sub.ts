import type { Command } from 'commander';

/**
 * `atbridge sub` takes mosquitto_sub's options, parsed as mosquitto parses them (src/mqtt/cli/mosq-args.ts);
 * src/cli.ts hands it over before commander sees it. This entry only lists it in `atbridge --help`.
 */
export default function register(program: Command): void {
  program
    .command('sub')
    .description('subscribe and print messages, as mosquitto_sub (through a module with --device, else directly); `atbridge sub --help` lists its options')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[options...]')
    .action(async (args: string[]) => {
      const { runTool } = await import('../../mqtt/cli/mosq-main.js');
      process.exitCode = await runTool('sub', 'atbridge sub', args);
    });
}

import type { Command } from 'commander';

/**
 * `atbridge rr` takes mosquitto_rr's options, parsed as mosquitto parses them (src/mqtt/cli/mosq-args.ts);
 * src/cli.ts hands it over before commander sees it. This entry only lists it in `atbridge --help`.
 */
export default function register(program: Command): void {
  program
    .command('rr')
    .description('request/response, as mosquitto_rr: publish a request and print the first response; `atbridge rr --help` lists its options')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[options...]')
    .action(async (args: string[]) => {
      const { runTool } = await import('../../mqtt/cli/mosq-main.js');
      process.exitCode = await runTool('rr', 'atbridge rr', args);
    });
}

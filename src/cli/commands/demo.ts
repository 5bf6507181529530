import type { Command } from 'commander';
import pc from 'picocolors';
import { runDemo } from '../../demo/run-demo.js';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { action, intOption } from '../run.js';

interface DemoCliOptions {
  profile: string;
  pacing: boolean;
  transparent?: boolean;
  baud: number;
  quiet?: boolean;
}

/** `atbridge demo`: MQTT through an emulated module to an embedded broker, decoded live. */
export default function register(program: Command): void {
  program
    .command('demo')
    .description('no hardware needed: an embedded broker, an emulated module, MQTT through its socket, the serial conversation decoded live')
    .option('--profile <id>', 'sim7600 or esp-at', 'sim7600')
    .option('--transparent', 'carry MQTT in transparent mode instead of one send command per write')
    .option('--baud <rate>', 'emulated UART rate', intOption('--baud', 9600, 3_000_000), 115200)
    .option('--no-pacing', 'do not pace bytes at the line rate (faster, less real)')
    .option('--quiet', 'only the summary')
    .action(
      action(async (opts: DemoCliOptions) => {
        if (opts.profile !== 'sim7600' && opts.profile !== 'esp-at') {
          throw new AtbridgeError('bad-option', `--profile must be sim7600 or esp-at, not "${opts.profile}"`, { exitCode: ExitCode.usage });
        }
        const out = (line: string) => process.stdout.write(`${line}\n`);
        const s = await runDemo({ profile: opts.profile, pacing: opts.pacing, transparent: opts.transparent ?? false, baud: opts.baud, quiet: opts.quiet ?? false, out });
        out('');
        out(pc.bold('summary'));
        out(`  ${s.atCommands} AT commands, ${s.urcs} URCs; serial bytes: ${s.serialBytesToModule} to the module, ${s.serialBytesFromModule} from it`);
        out(`  MQTT packets through the module: ${s.mqttPacketsSent} sent, ${s.mqttPacketsReceived} received`);
        out(`  messages received through the module (${s.received.length}):`);
        for (const m of s.received) out(`    ${m}`);
        out(`  ${s.seconds.toFixed(1)} s from power-on to the end`);
        // Suggest the run not yet seen: the other family, the other mode.
        const other = `atbridge demo --profile ${opts.profile === 'sim7600' ? 'esp-at' : 'sim7600'}${opts.transparent ? '' : ' --transparent'}`;
        out(pc.dim(`  try: ${other} · atbridge emulate --profile ${opts.profile} --pty /tmp/ttyV0`));
        return ExitCode.ok;
      }),
    );
}

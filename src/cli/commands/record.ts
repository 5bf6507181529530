import type { Command } from 'commander';
import { startRecording } from '../../record/record.js';
import { emuDevices } from '../modem-options.js';
import { action, collect, intOption } from '../run.js';

interface RecordCliOptions {
  device: string;
  pty: string;
  baud: number;
  trace?: string;
  traceDir?: string;
  secret: string[];
}

/** `atbridge record`: sit between any program and its port and trace the conversation. */
export default function register(program: Command): void {
  program
    .command('record')
    .description("record any program's serial traffic: it opens --pty, atbridge forwards to --device and writes a trace")
    .requiredOption('--device <path>', `the real port (/dev/ttyUSB2), tcp://host:port or emu:FAMILY (${emuDevices()})`)
    .requiredOption('--pty <path>', 'the pty link the program opens instead of the port (made here, removed on exit)')
    .option('--baud <rate>', 'rate both sides start at; the program\'s own setting is followed as it changes', intOption('--baud', 50, 5_000_000), 115200)
    .option('--trace <file>', 'JSONL trace (appended to; passwords masked)')
    .option('--trace-dir <dir>', 'flight recorder: rolling compressed trace segments in DIR')
    .option('--secret <text>', 'mask this text wherever it appears, besides the passwords the profiles know (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Example:
  atbridge record --device /dev/ttyUSB2 --pty /tmp/ttyMODEM --trace session.jsonl &
  picocom -b 115200 /tmp/ttyMODEM        # or any program: minicom, a Python script, ModemManager
  atbridge decode session.jsonl
Linux ptys have no DTR/RTS lines: those cannot be seen from the program or passed on.`,
    )
    .action(
      action(async (opts: RecordCliOptions) => {
        const log = (line: string) => process.stderr.write(`atbridge record: ${line}\n`);
        const recording = await startRecording({
          device: opts.device,
          pty: opts.pty,
          baud: opts.baud,
          ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
          ...(opts.traceDir !== undefined ? { traceDir: opts.traceDir } : {}),
          secrets: opts.secret,
          log,
        });
        const signalled = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        process.stdout.write(`ready ${recording.pty}\n`);
        const why = await Promise.race([signalled, recording.ended.then((reason) => `!${reason}`)]);
        await recording.stop();
        log(`${recording.counts.tx} bytes to the device, ${recording.counts.rx} back`);
        if (why.startsWith('!')) {
          log(`stopped: ${why.slice(1)}`);
          return 1;
        }
        return 0;
      }),
    );
}

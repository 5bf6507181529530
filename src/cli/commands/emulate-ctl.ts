import type { Command } from 'commander';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { sendControl } from '../../emulator/faults-control.js';
import { action } from '../run.js';

/** `atbridge emulate-ctl PATH REQUEST…`: live faults for a running `atbridge emulate --control PATH`. */
export default function register(program: Command): void {
  program
    .command('emulate-ctl')
    .description('send a live fault to a running atbridge emulate --control PATH (reboot, peer-close, network-lost, unplug:MS, clear, status, help, …)')
    .argument('<path>', 'the --control socket of the emulator')
    .argument('<request...>', 'faults as --fault writes them (reboot, busy:3000, peer-close,every=5s), status or help; each in turn')
    .action(
      action(async (path: string, requests: string[]) => {
        for (const request of requests) {
          const answer = await sendControl(path, request);
          if (answer.startsWith('ok')) {
            process.stdout.write(`${answer.replace(/^ok ?/, '')}\n`);
            continue;
          }
          throw new AtbridgeError('emulator-control', `${request}: ${answer.replace(/^error ?/, '')}`, { exitCode: ExitCode.usage });
        }
      }),
    );
}

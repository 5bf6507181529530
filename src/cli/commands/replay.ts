import type { Command } from 'commander';
import { getProfile, listProfileIds } from '../../profile/index.js';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { openCapture, CAPTURE_FORMATS, type CaptureFormat } from '../../trace/import/index.js';
import { buildScript, stepLabel, type ReplayStep } from '../../replay/script.js';
import { ReplayModule, type Divergence } from '../../replay/replay-module.js';
import { openPtyEnd } from '../../replay/pty-end.js';
import { resend } from '../../replay/resend.js';
import { formatSideBySide, sideBySide } from '../../replay/side-by-side.js';
import { openDevice } from '../../transport/open-device.js';
import { TappedLink } from '../../transport/tap.js';
import { TraceWriter } from '../../trace/writer.js';
import { emuDevices } from '../modem-options.js';
import { checkWritableFile } from '../output-paths.js';
import { action, intOption } from '../run.js';

interface ReplayCliOptions {
  emulate?: boolean;
  pty?: string;
  to?: string;
  speed: string;
  baud: number;
  profile?: string;
  format: CaptureFormat | 'auto';
  out?: string;
  idle: number;
}

/** `atbridge replay FILE`: be the recorded module on a pty, or replay the host's side to a module. */
export default function register(program: Command): void {
  program
    .command('replay')
    .description('replay a capture: --emulate --pty PATH acts as the recorded module; --to DEVICE resends the host side and compares')
    .argument('<file>', 'a capture in any format decode reads')
    .option('--emulate', 'act as the recorded module (with --pty)')
    .option('--pty <path>', 'create a pty at this path for the host program')
    .option('--to <device>', `resend the host side to this module (serial path, tcp://, emu:FAMILY: ${emuDevices()})`)
    .option('--speed <n>', 'timing factor for --emulate (2 = twice as fast, 0 = no delays)', '1')
    .option('--baud <rate>', 'serial rate', intOption('--baud', 300, 5_000_000), 115200)
    .option('--profile <id>', `firmware profile: ${listProfileIds().join(', ')}, auto (guessed from the content, the default) or a path to a profile JSON file`)
    .option('--format <format>', `auto, ${CAPTURE_FORMATS.join(', ')}`, 'auto')
    .option('--out <file>', 'with --to: where to write the new trace (default FILE.replay.jsonl)')
    .option('--idle <ms>', 'with --emulate: give up after this long without host input', intOption('--idle', 100, 3_600_000), 30_000)
    .action(action(async (file: string, opts: ReplayCliOptions) => runReplay(file, opts)));
}

async function runReplay(file: string, opts: ReplayCliOptions): Promise<number> {
  const speed = Number(opts.speed);
  if (!Number.isFinite(speed) || speed < 0) throw new AtbridgeError('bad-option', `--speed must be a number ≥ 0, not "${opts.speed}"`, { exitCode: ExitCode.usage });
  if (Boolean(opts.emulate) === Boolean(opts.to)) throw new AtbridgeError('bad-option', 'give exactly one of --emulate (with --pty PATH) or --to DEVICE', { exitCode: ExitCode.usage });
  if (opts.emulate && !opts.pty) throw new AtbridgeError('bad-option', '--emulate needs --pty PATH', { exitCode: ExitCode.usage });
  const capture = await openCapture(file, { format: opts.format });
  const profile = getProfile(opts.profile === undefined || opts.profile === 'auto' ? capture.profile : opts.profile);
  const script = await buildScript(capture.events, profile, capture.perLine);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`# ${file}: ${script.steps.length} host steps, profile ${profile.id}`);

  if (opts.emulate) {
    const end = await openPtyEnd(opts.pty!, opts.baud);
    say(`# acting as the recorded module on ${opts.pty}`);
    const module = new ReplayModule(script, (data) => void end.link.write(data).catch(() => undefined), { speed });
    module.on('match', (n: number, step: ReplayStep) => say(`✓ ${n}: ${stepLabel(step)}`));
    module.on('diverge', (d: Divergence) => say(`✗ ${d.step}: ${describeDivergence(d)}`));
    let idle: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve) => {
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(resolve, opts.idle);
      };
      end.link.on('data', (chunk) => {
        arm();
        module.input(chunk);
      });
      module.on('done', () => setTimeout(resolve, 300));
      arm();
    });
    module.start();
    await finished;
    clearTimeout(idle);
    module.close();
    await end.close();
    const left = script.steps.length - module.divergences.length;
    say(module.finished && module.divergences.length === 0 ? `# the host followed the recording (${left} steps)` : `# ${module.divergences.length} divergence(s)${module.finished ? '' : ', recording not finished'}`);
    return module.divergences.length === 0 && module.finished ? ExitCode.ok : ExitCode.failure;
  }

  const out = opts.out ?? `${file}.replay.jsonl`;
  // --out was checked with the other options; the default next to FILE is checked here, before the module is opened.
  checkWritableFile(out);
  const device = await openDevice(opts.to!, { baud: opts.baud });
  const link = new TappedLink(device.link);
  const writer = new TraceWriter(out, { profile: profile.id, baud: opts.baud, device: opts.to!, source: `atbridge replay ${file}` });
  link.addTap(writer);
  try {
    const { answers } = await resend(script, link, profile);
    const rows = sideBySide(script, answers);
    say(formatSideBySide(rows));
    const differ = rows.filter((r) => !r.same).length;
    say(`# ${differ === 0 ? 'every step answered as recorded' : `${differ} of ${rows.length} steps answered differently`} (✗ another final result, a line, data or URC result code missing or extra; ~ only other values)`);
    say(`# new trace: ${out}`);
    return differ === 0 ? ExitCode.ok : ExitCode.failure;
  } finally {
    await writer.close();
    await device.close();
  }
}

function describeDivergence(d: Divergence): string {
  switch (d.kind) {
    case 'skipped':
      return `the host skipped "${d.expected}"`;
    case 'different-command':
      return `the host sent "${d.got}", the recording has "${d.expected}" (answered ERROR)`;
    case 'unexpected':
      return `the host sent "${d.got}" after the recording ended (answered ERROR)`;
    case 'different-payload':
      return `payload differs: recorded "${d.expected}", got "${d.got}"`;
  }
}

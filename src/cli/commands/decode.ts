import type { Command } from 'commander';
import { once } from 'node:events';
import { decodeCapture } from '../../decode/decode-capture.js';
import { entryJson, formatEntry } from '../../decode/format-entry.js';
import { ProgressBar } from '../../decode/progress.js';
import { CAPTURE_FORMATS, type CaptureFormat } from '../../trace/import/index.js';
import { action } from '../run.js';

interface DecodeCliOptions {
  profile?: string;
  format: CaptureFormat | 'auto';
  json?: boolean;
  direction: 'rx' | 'tx' | 'merged';
}

/** `atbridge decode FILE`: the annotated timeline of a capture, streamed. */
export default function register(program: Command): void {
  program
    .command('decode')
    .description('annotate a serial capture: commands, answers, code meanings, round trips, socket data and the MQTT inside')
    .argument('<file>', 'a trace (JSONL), raw dump, pasted transcript, socat -v/-x, interceptty or logic-analyzer CSV')
    .option('--profile <id>', 'sim7600 or esp-at (guessed from the content when absent)')
    .option('--format <format>', `auto, ${CAPTURE_FORMATS.join(', ')}`, 'auto')
    .option('--direction <dir>', 'for raw dumps: rx, tx or merged', 'merged')
    .option('--json', 'one JSON object per line')
    .action(
      action(async (file: string, opts: DecodeCliOptions) => {
        const decoded = await decodeCapture(file, {
          format: opts.format,
          rawDirection: opts.direction,
          ...(opts.profile ? { profile: opts.profile } : {}),
        });
        const { capture, profile } = decoded;
        const out = process.stdout;
        const bar = ProgressBar.wanted(capture.size) ? new ProgressBar(capture.size!) : undefined;
        if (opts.json) await write(out, `${JSON.stringify({ type: 'decode', file, format: capture.format, profile: profile.id })}\n`);
        else await write(out, `# ${file}: ${capture.format}, profile ${profile.id}${opts.profile ? '' : ' (guessed)'}\n`);
        const format = opts.json ? entryJson : formatEntry;
        let count = 0;
        let text = '';
        for await (const batch of decoded.batches) {
          for (const entry of batch) text += `${format(entry)}\n`;
          count += batch.length;
          if (count >= 256) {
            await write(out, text);
            text = '';
            count = 0;
            bar?.update(capture.bytesRead());
          }
        }
        await write(out, text);
        bar?.done();
      }),
    );
}

/** Writes and waits when the pipe is full, so a slow reader never makes memory grow. */
async function write(out: NodeJS.WriteStream, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await once(out, 'drain');
}

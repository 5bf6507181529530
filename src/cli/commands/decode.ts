import type { Command } from 'commander';
import { decodeCapture } from '../../decode/decode-capture.js';
import { writeTimeline } from '../../decode/write-timeline.js';
import { listProfileIds } from '../../profile/index.js';
import { CAPTURE_FORMATS, RAW_DIRECTIONS, type CaptureFormat } from '../../trace/import/index.js';
import { action, intOption } from '../run.js';

interface DecodeCliOptions {
  profile?: string;
  format: CaptureFormat | 'auto';
  json?: boolean;
  direction: 'rx' | 'tx' | 'merged';
  pcap?: string;
  html?: string;
  interface?: number;
}

/** `atbridge decode FILE`: the annotated timeline of a capture, streamed. */
export default function register(program: Command): void {
  program
    .command('decode')
    .description('annotate a serial capture: commands, answers, code meanings, round trips, socket data and the MQTT inside')
    .argument('<file>', 'a trace (JSONL, .jsonl.gz or a --trace-dir directory), raw dump, pasted transcript, socat -v/-x, interceptty, logic-analyzer CSV or usbmon pcap/pcapng')
    .option('--profile <id>', `firmware profile: ${listProfileIds().join(', ')}, auto (guessed from the content, the default) or a path to a profile JSON file`)
    .option('--format <format>', `auto, ${CAPTURE_FORMATS.join(', ')}`, 'auto')
    .option('--direction <dir>', `for raw dumps: ${RAW_DIRECTIONS.join(', ')}`, 'merged')
    .option('--json', 'one JSON object per line')
    .option('--interface <n>', 'usbmon captures: the USB interface number of the AT port (default: found from the traffic)', intOption('--interface', 0, 255))
    .option('--html <out>', 'write one self-contained page: host, module and network lanes, round trips, MQTT fields, the findings pinned to their lines')
    .option('--pcap <out>', "write the module's socket data as TCP streams to a pcapng file for Wireshark (its MQTT dissector reads them)")
    .action(
      action(async (file: string, opts: DecodeCliOptions) => {
        const named = opts.profile !== undefined && opts.profile !== 'auto' ? opts.profile : undefined;
        if (opts.html !== undefined) {
          const { writeConversationPage } = await import('../../html/write-page.js');
          const r = await writeConversationPage(file, opts.html, { format: opts.format, rawDirection: opts.direction, ...(opts.interface !== undefined ? { usbInterface: opts.interface } : {}), ...(named ? { profile: named } : {}) });
          process.stderr.write(`${opts.html}: ${r.rows} rows, ${r.findings} finding(s)${r.omitted ? `, ${r.omitted} entries past the page's cap left out` : ''}\n`);
          if (opts.pcap === undefined) return;
        }
        if (opts.pcap !== undefined) {
          const { exportPcap } = await import('../../trace/export/to-pcap.js');
          const r = await exportPcap(file, opts.pcap, { format: opts.format, rawDirection: opts.direction, ...(opts.interface !== undefined ? { usbInterface: opts.interface } : {}), ...(named ? { profile: named } : {}) });
          process.stderr.write(`${opts.pcap}: ${r.packets} TCP packets on ${r.links} connection(s), ${r.socketBytes} bytes of socket data, ${r.mqtt} MQTT packets\n`);
          return;
        }
        // openCapture checks --format and --direction (a usage error, exit 2) before the file.
        const decoded = await decodeCapture(file, {
          format: opts.format,
          rawDirection: opts.direction,
          ...(opts.interface !== undefined ? { usbInterface: opts.interface } : {}),
          ...(named ? { profile: named } : {}),
        });
        await writeTimeline(decoded, process.stdout, { file, json: opts.json, named: named !== undefined, progress: true });
      }),
    );
}

import { open } from 'node:fs/promises';
import { Conversation } from '../../decode/conversation.js';
import { getProfile } from '../../profile/index.js';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { fsReason } from '../../fs-reason.js';
import { openCapture, type OpenCaptureOptions } from '../import/index.js';
import { TOOL } from '../../version.js';
import { enhancedPacket, LINKTYPE_RAW, pcapngHeader } from './pcapng.js';
import { TcpSynth } from './tcp-synth.js';

export interface PcapExportOptions extends OpenCaptureOptions {
  profile?: string;
  /** The TCP port the synthetic server listens on (1883: Wireshark's MQTT port). */
  serverPort?: number;
}

export interface PcapExportResult {
  packets: number;
  links: number;
  /** MQTT packets the decoder found in the socket data (what Wireshark should show too). */
  mqtt: number;
  socketBytes: number;
}

/**
 * `decode --pcap OUT`: the module's socket data as TCP streams in a pcapng file, so Wireshark's
 * own MQTT dissector (or any other) reads what went through the module. Addresses and ports are
 * synthetic; times are the capture's own (its start plus each event's `t`).
 */
export async function exportPcap(input: string, output: string, options: PcapExportOptions = {}): Promise<PcapExportResult> {
  const capture = await openCapture(input, options);
  const profile = getProfile(options.profile ?? capture.profile);
  const conversation = new Conversation(profile, { perLine: capture.perLine, details: true });
  const startMs = capture.header ? Date.parse(capture.header.start) : 0;
  const originUs = BigInt(Number.isFinite(startMs) ? startMs : 0) * 1000n;
  const tcp = new TcpSynth(options.serverPort ?? 1883);
  let file;
  try {
    file = await open(output, 'w');
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot write ${output}: ${fsReason(err)}`, { exitCode: ExitCode.usage });
  }
  const result: PcapExportResult = { packets: 0, links: 0, mqtt: 0, socketBytes: 0 };
  const links = new Set<string>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const emit = async (t: number | undefined, packets: Buffer[]) => {
    const us = originUs + BigInt(Math.round((t ?? 0) * 1000));
    for (const p of packets) {
      const block = enhancedPacket(us, p);
      pending.push(block);
      pendingBytes += block.length;
    }
    if (pendingBytes > 1 << 20) {
      await file.write(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    }
  };
  try {
    await file.write(pcapngHeader(LINKTYPE_RAW, TOOL, `atbridge socket data of ${input}`));
    let index = 0;
    const handle = async (entries: ReturnType<Conversation['push']>) => {
      for (const e of entries) {
        if (e.kind === 'data' && e.socket) {
          const raw = conversation.detailOf(e)?.raw;
          if (raw === undefined) continue;
          const bytes = Buffer.from(raw, 'latin1');
          links.add(e.socket.link);
          result.socketBytes += bytes.length;
          result.mqtt += e.mqtt?.length ?? 0;
          await emit(e.t, tcp.data(e.socket.link, e.dir === 'tx' ? 'up' : 'down', bytes));
        } else if (e.urc?.event === 'socket-closed') {
          const link = e.urc.groups.id ?? e.urc.groups.link ?? '0';
          await emit(e.t, tcp.close(link));
        }
      }
    };
    for await (const event of capture.events) await handle(conversation.push(event, index++));
    await handle(conversation.flush());
    if (pending.length > 0) await file.write(Buffer.concat(pending));
  } finally {
    await file.close();
  }
  result.packets = tcp.packets;
  result.links = links.size;
  return result;
}

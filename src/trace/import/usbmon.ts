import { AtbridgeError, ExitCode } from '../../errors.js';
import type { TraceEvent } from '../events.js';
import { noteEvent } from '../events.js';
import { readPcapPackets, type CapturedPacket } from './pcap-file.js';

/** Linux usbmon link types: the 48-byte header (tcpdump's older format) and the 64-byte mmapped one. */
const LINKTYPE_USB_LINUX = 189;
const LINKTYPE_USB_LINUX_MMAPPED = 220;
const BULK = 3;
const CONTROL = 2;
/** bmAttributes of an endpoint descriptor (USB 2.0 §9.6.6): 2 = bulk. Not usbmon's transfer-type numbering. */
const ENDPOINT_BULK = 2;

interface UsbRecord {
  id: bigint;
  event: 'S' | 'C' | 'E';
  xfer: number;
  /** Endpoint address with the direction bit (0x80 = IN). */
  ep: number;
  device: string;
  tsUs: bigint;
  data: Buffer;
}

/** One record of Wireshark's documented pcap_usb_header(_mmapped), in the capturing host's (little-endian) order. */
function parseRecord(p: CapturedPacket): UsbRecord | undefined {
  const size = p.linkType === LINKTYPE_USB_LINUX_MMAPPED ? 64 : p.linkType === LINKTYPE_USB_LINUX ? 48 : 0;
  if (size === 0 || p.data.length < size) return undefined;
  const h = p.data;
  const event = String.fromCharCode(h[8]!);
  if (event !== 'S' && event !== 'C' && event !== 'E') return undefined;
  const capLen = h.readUInt32LE(36);
  const data = h[15] === 0 ? h.subarray(size, size + capLen) : Buffer.alloc(0);
  return { id: h.readBigUInt64LE(0), event, xfer: h[9]!, ep: h[10]!, device: `${h.readUInt16LE(12)}.${h[11]!}`, tsUs: p.tsUs, data };
}

export interface UsbSelection {
  device: string;
  /** Interface number, when the capture holds the configuration descriptor. */
  interface?: number;
  out: number;
  in: number;
  /** First packet's time, µs since the epoch: the trace's start. */
  startUs: bigint;
}

const isIn = (ep: number) => (ep & 0x80) !== 0;

/** Endpoint payloads as the bus carried them: OUT data on the submission, IN data on the completion. */
function payloadOf(r: UsbRecord): Buffer | undefined {
  if (r.xfer !== BULK || r.data.length === 0) return undefined;
  if (isIn(r.ep) ? r.event === 'C' : r.event === 'S') return r.data;
  return undefined;
}

/** How much a payload looks like AT traffic: commands out, result codes back. */
function atScore(data: Buffer, inbound: boolean): number {
  const text = data.toString('latin1');
  if (inbound) return /(?:^|\r\n)(?:OK|ERROR|\+CM[ES] ERROR:[^\r\n]*|>)(?:\r\n|$)|\r\n\+[A-Z]+:/.test(text) ? 1 : 0;
  return /^AT[A-Z+&\\%$#*^\d]?/i.test(text) ? 1 : 0;
}

/** Interfaces of each device, from GET_DESCRIPTOR(configuration) answers in the capture. */
function parseConfig(data: Buffer, into: Map<number, number>): void {
  let at = 0;
  let current: number | undefined;
  while (at + 2 <= data.length) {
    const len = data[at]!;
    const type = data[at + 1]!;
    if (len < 2) break;
    if (type === 4 && at + 3 <= data.length) current = data[at + 2]!;
    if (type === 5 && at + 4 <= data.length && current !== undefined && (data[at + 3]! & 3) === ENDPOINT_BULK) into.set(data[at + 2]!, current);
    at += len;
  }
}

/**
 * Picks the device and the bulk endpoint pair that carry AT traffic: `--interface N` when the
 * capture holds the configuration descriptor, else the endpoints whose payloads read most like AT
 * commands and result codes.
 */
export async function selectUsbInterface(path: string, wanted?: number): Promise<UsbSelection> {
  const scores = new Map<string, { at: number; bytes: number }>();
  const interfaces = new Map<string, Map<number, number>>(); // device → endpoint → interface
  let startUs: bigint | undefined;
  let usb = 0;
  let other: number | undefined;
  for await (const packet of readPcapPackets(path)) {
    const r = parseRecord(packet);
    if (!r) {
      other ??= packet.linkType;
      continue;
    }
    usb++;
    startUs ??= r.tsUs;
    if (r.xfer === CONTROL && r.event === 'C' && r.data.length >= 9 && r.data[1] === 2) {
      const map = interfaces.get(r.device) ?? new Map<number, number>();
      parseConfig(r.data, map);
      interfaces.set(r.device, map);
    }
    const data = payloadOf(r);
    if (!data) continue;
    const key = `${r.device}/${r.ep}`;
    const s = scores.get(key) ?? { at: 0, bytes: 0 };
    s.at += atScore(data, isIn(r.ep));
    s.bytes += data.length;
    scores.set(key, s);
  }
  if (usb === 0) {
    throw new AtbridgeError('bad-input', `${path} holds no Linux usbmon records${other !== undefined ? ` (its link type is ${other}, not USB Linux 189/220)` : ''}`, {
      exitCode: ExitCode.badInput,
      fix: 'capture the USB bus the modem is on: modprobe usbmon; tcpdump -i usbmon1 -w cap.pcapng (or Wireshark on usbmon1)',
    });
  }
  const endpoints = [...scores.entries()].map(([key, s]) => {
    const [device, ep] = key.split('/');
    return { device: device!, ep: Number(ep), ...s };
  });
  const best = (list: typeof endpoints) => list.sort((a, b) => b.at - a.at || b.bytes - a.bytes)[0];
  if (wanted !== undefined) {
    const found = [...interfaces.entries()].flatMap(([device, map]) => [...map.entries()].filter(([, n]) => n === wanted).map(([ep]) => ({ device, ep })));
    if (interfaces.size === 0) {
      throw new AtbridgeError('bad-input', `${path} has no configuration descriptor, so interface ${wanted} cannot be found in it`, {
        exitCode: ExitCode.badInput,
        fix: 'leave out --interface (the AT endpoints are found from the traffic), or start the capture before plugging the modem in',
      });
    }
    const outEp = found.find((f) => !isIn(f.ep));
    const inEp = found.find((f) => isIn(f.ep) && f.device === outEp?.device);
    if (!outEp || !inEp) throw new AtbridgeError('bad-input', `${path}: no device has a bulk interface ${wanted}`, { exitCode: ExitCode.badInput });
    return { device: outEp.device, interface: wanted, out: outEp.ep, in: inEp.ep, startUs: startUs! };
  }
  const out = best(endpoints.filter((e) => !isIn(e.ep)));
  if (!out || out.at === 0) {
    throw new AtbridgeError('bad-input', `${path}: no USB bulk endpoint in it carries AT commands`, {
      exitCode: ExitCode.badInput,
      fix: 'capture while a program talks to the modem, on the bus it is plugged into (lsusb shows the bus)',
    });
  }
  const map = interfaces.get(out.device);
  const iface = map?.get(out.ep);
  const candidates = endpoints.filter((e) => isIn(e.ep) && e.device === out.device && (iface === undefined || map?.get(e.ep) === iface));
  const inEp = best(candidates);
  if (!inEp) throw new AtbridgeError('bad-input', `${path}: the AT commands on device ${out.device} get no answers in the capture`, { exitCode: ExitCode.badInput });
  return { device: out.device, ...(iface !== undefined ? { interface: iface } : {}), out: out.ep, in: inEp.ep, startUs: startUs! };
}

/** The selected endpoints' payloads as trace events: OUT → tx, IN → rx, times from the capture. */
export async function* importUsbmon(path: string, selection: UsbSelection, onRead?: (bytes: number) => void): AsyncGenerator<TraceEvent> {
  const hex = (ep: number) => `0x${ep.toString(16).padStart(2, '0')}`;
  yield noteEvent(0, `usbmon: device ${selection.device}${selection.interface !== undefined ? ` interface ${selection.interface}` : ''}, bulk OUT ${hex(selection.out)} / IN ${hex(selection.in)}`, {
    usb: { device: selection.device, interface: selection.interface, out: selection.out, in: selection.in },
  });
  for await (const packet of readPcapPackets(path, onRead)) {
    const r = parseRecord(packet);
    if (!r || r.device !== selection.device || (r.ep !== selection.out && r.ep !== selection.in)) continue;
    const data = payloadOf(r);
    if (!data) continue;
    yield { t: Number(r.tsUs - selection.startUs) / 1000, dir: r.ep === selection.out ? 'tx' : 'rx', data: Buffer.from(data) };
  }
}

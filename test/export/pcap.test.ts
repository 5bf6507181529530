import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCapture } from '../../bench/capture.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const TYPES: Record<string, number> = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7, SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 };

function tshark(args: string[]): string {
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  return run.stdout;
}

/** The MQTT packet types decode finds, in order, and those Wireshark's dissector finds in --pcap. */
function both(capture: string): { decoded: number[]; wireshark: number[]; malformed: string } {
  const out = join(mkdtempSync(join(tmpdir(), 'atb-pcap-')), 'out.pcapng');
  const json = spawnSync(process.execPath, [CLI, 'decode', '--json', capture], { encoding: 'utf8', maxBuffer: 256 << 20 });
  expect(json.status).toBe(0);
  const decoded: number[] = [];
  for (const line of json.stdout.split('\n')) {
    if (!line.includes('"mqtt"')) continue;
    for (const p of (JSON.parse(line) as { mqtt?: { type: string }[] }).mqtt ?? []) decoded.push(TYPES[p.type]!);
  }
  const run = spawnSync(process.execPath, [CLI, 'decode', capture, '--pcap', out], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stderr).toMatch(/TCP packets on \d+ connection/);
  const wireshark = tshark(['-r', out, '-Y', 'mqtt', '-T', 'fields', '-e', 'mqtt.msgtype'])
    .split(/[\n,]/)
    .filter((s) => s.trim() !== '')
    .map(Number);
  const malformed = tshark(['-r', out, '-Y', '_ws.malformed || _ws.expert.severity >= warning']);
  return { decoded, wireshark, malformed };
}

describe('decode --pcap: the socket data for Wireshark (tshark -Y mqtt)', () => {
  it('a real emulator session captured with socat -x: every MQTT packet decodes, in order', () => {
    const { decoded, wireshark, malformed } = both('fixtures/captures/socat-x-esp-at-mqtt.log');
    expect(decoded).toEqual([1, 2, 8, 9, 3, 4, 3, 4, 14]);
    expect(wireshark).toEqual(decoded);
    expect(malformed.trim()).toBe('');
  });

  it('a long SIM7600 session with coalesced sends and +IPD blocks split across reads', async () => {
    const capture = join(mkdtempSync(join(tmpdir(), 'atb-pcap-')), 'long.jsonl');
    await writeCapture(capture, 200 * 1024);
    const { decoded, wireshark, malformed } = both(capture);
    expect(decoded.length).toBeGreaterThan(1000);
    expect(wireshark).toEqual(decoded);
    expect(malformed.trim()).toBe('');
  });

  it('a file it cannot write is one line', () => {
    const run = spawnSync(process.execPath, [CLI, 'decode', 'fixtures/captures/socat-x-esp-at-mqtt.log', '--pcap', '/nonexistent-dir/x.pcapng'], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim().split('\n')[0]).toMatch(/cannot write \/nonexistent-dir/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

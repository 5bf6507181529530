import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { openCapture } from '../../src/trace/import/index.js';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const PCAPNG = 'fixtures/captures/usbmon-sim7600.pcapng';
const PCAP189 = 'fixtures/captures/usbmon-sim7600-189.pcap';

async function events(path: string, usbInterface?: number): Promise<{ events: TraceEvent[]; start: string | undefined; format: string }> {
  const capture = await openCapture(path, usbInterface !== undefined ? { usbInterface } : {});
  const all: TraceEvent[] = [];
  for await (const e of capture.events) all.push(e);
  return { events: all, start: capture.header?.start, format: capture.format };
}

describe('usbmon captures (pcap/pcapng from tcpdump -i usbmonN or Wireshark)', () => {
  it('tshark itself dissects the fixture: AT commands on bulk OUT 0x03, answers on bulk IN 0x84', () => {
    for (const file of [PCAPNG, PCAP189]) {
      const run = spawnSync('tshark', ['-r', file, '-Y', 'at', '-T', 'fields', '-e', 'usb.endpoint_address', '-e', 'at.cmd'], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      const rows = run.stdout.trim().split('\n').map((l) => l.split('\t'));
      expect(rows.length).toBe(22);
      expect(rows[0]).toEqual(['0x03', 'AT']);
      expect(rows[1]).toEqual(['0x84', 'OK']);
      expect(rows.filter((r) => r[0] === '0x03').map((r) => r[1])).toContain('+CIPOPEN');
    }
  });

  it('picks the AT interface from the traffic, both directions, with the capture times', async () => {
    for (const file of [PCAPNG, PCAP189]) {
      const { events: all, start, format } = await events(file);
      expect(format).toBe('usbmon');
      expect(start).toBe('2026-12-03T03:00:00.000Z');
      expect(all[0]!.dir).toBe('note');
      expect(all[0]!.data.toString()).toBe('usbmon: device 1.5 interface 2, bulk OUT 0x03 / IN 0x84');
      const tx = all.filter((e) => e.dir === 'tx').map((e) => e.data.toString('latin1'));
      const rx = all.filter((e) => e.dir === 'rx');
      expect(tx.slice(0, 3)).toEqual(['AT\r', 'ATE0\r', 'AT+CPIN?\r']);
      // NMEA on interface 1 and diag frames on interface 0 are left out.
      expect(rx.some((e) => e.data.includes('$GPGSV'))).toBe(false);
      expect(rx.some((e) => e.data[0] === 0x7e)).toBe(false);
      expect(rx[0]!.data.toString('latin1')).toBe('\r\nOK\r\n');
      // Times: the first OUT 102.55 ms after the first record, its answer 2.42 ms later.
      expect(all[1]!.t).toBeCloseTo(102.55, 2);
      expect(all[2]!.t! - all[1]!.t!).toBeCloseTo(2.42, 2);
      // The split answer arrives in two bulk transfers, as on the bus.
      expect(rx.slice(-2).map((e) => e.data.toString('latin1'))).toEqual(['\r\n+CSQ: 1', '9,99\r\n\r\nOK\r\n']);
    }
  });

  it('--interface picks another interface by the configuration descriptor; a missing one is one line', async () => {
    const { events: all } = await events(PCAPNG, 1);
    expect(all[0]!.data.toString()).toBe('usbmon: device 1.5 interface 1, bulk OUT 0x02 / IN 0x82');
    expect(all.filter((e) => e.dir === 'rx').every((e) => e.data.toString().startsWith('$GPGSV'))).toBe(true);
    const run = spawnSync(process.execPath, [CLI, 'decode', PCAPNG, '--interface', '9'], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('no device has a bulk interface 9');
    const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--log', PCAPNG, '--interface', '2'], { encoding: 'utf8' });
    expect(doctor.status, doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('no problems found');
  });

  it('decode reads it end to end, MQTT inside included, and --pcap hands that MQTT to tshark', () => {
    const run = spawnSync(process.execPath, [CLI, 'decode', PCAPNG], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('+CPIN: READY  — SIM ready');
    expect(run.stdout).toContain('MQTT ⇢ CONNECT');
    expect(run.stdout).toContain('MQTT ⇠ CONNACK');
    const out = `${process.env.TMPDIR ?? '/tmp'}/atb-usbmon-${process.pid}.pcapng`;
    expect(spawnSync(process.execPath, [CLI, 'decode', PCAPNG, '--pcap', out], { encoding: 'utf8' }).status).toBe(0);
    const mqtt = spawnSync('tshark', ['-r', out, '-Y', 'mqtt', '-T', 'fields', '-e', 'mqtt.msgtype'], { encoding: 'utf8' });
    expect(mqtt.stdout.trim().split('\n')).toEqual(['1', '2', '3']);
  });

  it('a pcap of something else is one line', () => {
    const out = `${process.env.TMPDIR ?? '/tmp'}/atb-usbmon-${process.pid}-2.pcapng`;
    spawnSync(process.execPath, [CLI, 'decode', PCAPNG, '--pcap', out]);
    const run = spawnSync(process.execPath, [CLI, 'decode', out], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr.split('\n')[0]).toContain('holds no Linux usbmon records (its link type is 101');
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtChannel, type BlockFrame } from '../../src/at/channel.js';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startPtyFront, type RunningFront } from '../../src/emulator/fronts.js';
import { getProfile } from '../../src/profile/index.js';
import { SerialLink } from '../../src/transport/serial-link.js';
import { startEchoServer, type EchoServer } from '../helpers/echo-server.js';

// AT commands typed by this test (through AtChannel) into the real serialport package on a socat
// pty, the emulated module on the far end, its socket on a real loopback TCP echo server.
let echo: EchoServer;
beforeAll(async () => {
  echo = await startEchoServer();
});
afterAll(async () => {
  await echo.close();
});

const CONNECT = [{ pattern: '^CONNECT(?: (?<rate>\\d+))?$', outcome: 'connect' as const }];
const SEND_FINALS = [
  { pattern: '^(?:OK|SEND OK)$', outcome: 'ok' as const },
  { pattern: '^(?:ERROR|SEND FAIL)$', outcome: 'error' as const },
];

/** Collects `n` bytes from an event that carries Buffers (or BlockFrames). */
function collect(channel: AtChannel, event: 'block' | 'data', n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const on = (x: Buffer | BlockFrame) => {
      parts.push(Buffer.isBuffer(x) ? x : x.data);
      if (Buffer.concat(parts).length >= n) {
        channel.off(event, on);
        resolve(Buffer.concat(parts));
      }
    };
    channel.on(event, on);
  });
}

describe.each(['sim7600', 'esp-at'] as const)('%s on a real pty', (profile) => {
  let front: RunningFront;
  let link: SerialLink;
  let channel: AtChannel;
  beforeAll(async () => {
    front = await startPtyFront(join(mkdtempSync(join(tmpdir(), 'atb-emu-')), 'ttyV0'), { ...DEFAULT_OPTIONS, profile, pacing: false });
    link = await SerialLink.open({ path: front.address, baud: 115200 });
    channel = new AtChannel(link, getProfile(profile));
    await channel.sendOk('AT');
    await channel.sendOk('ATE0');
  });
  afterAll(async () => {
    channel.detach();
    await link.close();
    await front.close();
  });

  it('command mode: send with the > prompt, the echo comes back as pushed data', async () => {
    const payload = Buffer.concat([randomBytes(600), Buffer.from('\r\nOK\r\n+IPD,3:\r\n', 'latin1')]);
    if (profile === 'sim7600') {
      await channel.sendOk('AT+CIPMODE=0');
      await channel.sendOk('AT+CIPRXGET=0');
      await channel.send('AT+NETOPEN', { awaitUrc: { pattern: /^\+NETOPEN: 0$/, timeoutMs: 5000 } });
      await channel.send(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, { awaitUrc: { pattern: /^\+CIPOPEN: 0,0$/, timeoutMs: 5000 } });
    } else {
      await channel.sendOk('AT+CWMODE=1');
      await channel.sendOk('AT+CWJAP="atbridge-lab","correct horse"', { timeoutMs: 5000 });
      await channel.sendOk('AT+CIPMUX=0');
      await channel.sendOk('AT+CIPMODE=0');
      await channel.sendOk(`AT+CIPSTART="TCP","127.0.0.1",${echo.port}`);
    }
    const back = collect(channel, 'block', payload.length);
    const cmd = profile === 'sim7600' ? `AT+CIPSEND=0,${payload.length}` : `AT+CIPSEND=${payload.length}`;
    const sent = await channel.send(cmd, { prompt: true, data: payload, dataFinals: SEND_FINALS });
    expect(sent.ok).toBe(true);
    expect((await back).equals(payload)).toBe(true);
    await channel.sendOk(profile === 'sim7600' ? 'AT+CIPCLOSE=0' : 'AT+CIPCLOSE');
    if (profile === 'sim7600') await channel.send('AT+NETCLOSE', { awaitUrc: { pattern: /^\+NETCLOSE: 0$/, timeoutMs: 5000 } });
  });

  it('transparent mode: bytes go straight through, AT-looking bytes included', async () => {
    const payload = Buffer.concat([Buffer.from('AT\r\n+++OK\r\n', 'latin1'), randomBytes(4000)]);
    if (profile === 'sim7600') {
      await channel.sendOk('AT+CIPMODE=1');
      await channel.send('AT+NETOPEN', { awaitUrc: { pattern: /^\+NETOPEN: 0$/, timeoutMs: 5000 } });
      const res = await channel.send(`AT+CIPOPEN=0,"TCP","127.0.0.1",${echo.port}`, { finals: CONNECT, enterDataMode: true });
      expect(res.final).toBe('CONNECT 115200');
    } else {
      await channel.sendOk('AT+CIPMODE=1');
      await channel.sendOk(`AT+CIPSTART="TCP","127.0.0.1",${echo.port}`);
      await channel.send('AT+CIPSEND', { prompt: true, enterDataMode: true });
    }
    expect(front.module.inTransparentMode).toBe(true);
    const back = collect(channel, 'data', payload.length);
    await channel.writeRaw(payload);
    expect((await back).equals(payload)).toBe(true);
    // The server hangs up: the module leaves data mode and says CLOSED.
    const closed = collect(channel, 'data', 1);
    echo.dropClients();
    expect((await closed).toString('latin1')).toContain('CLOSED');
    expect(front.module.inTransparentMode).toBe(false);
  });
});

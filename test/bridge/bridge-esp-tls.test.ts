import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteLink } from '../../src/bridge/remote-link.js';
import { readTrace } from '../../src/trace/reader.js';
import { keys, startWorld, until, type BridgeWorld } from './support.js';

/**
 * The other module family and the other remote scheme: the bridge joins Wi-Fi on an emulated
 * ESP-AT module and runs TLS to the remote's TLS listener on this host, so the module carries
 * only ciphertext (checked on the serial trace).
 */
const trace = join(mkdtempSync(join(tmpdir(), 'atb-bridge-esp-')), 'serial.jsonl');
let world: BridgeWorld;

beforeAll(async () => {
  world = await startWorld({
    lines: ['topic sensors/# out 1', 'topic cmd/# in 1', 'wifi_ssid atbridge-lab', 'wifi_password correct horse', `trace ${trace}`],
    localFilters: ['cmd/#'],
    remoteFilters: ['sensors/#'],
    tls: true,
    device: 'emu:esp-at?pacing=0',
  });
}, 40_000);

afterAll(() => world?.stop());

describe('bridge through an emulated ESP-AT module, TLS to the remote', () => {
  it('carries sensors/# out and cmd/# in at QoS 1, and the serial line never sees the plaintext', async () => {
    const { bridge, atLocal, atRemote, localPub, remotePub, remoteBroker } = world;
    await Promise.all(Array.from({ length: 10 }, (_, i) => localPub.publish('sensors/esp', `plain-secret-reading-${i}`, { qos: 1 })));
    await Promise.all(Array.from({ length: 10 }, (_, i) => remotePub.publish('cmd/esp', `plain-secret-command-${i}`, { qos: 1 })));
    const out = keys('sensors/esp', 'plain-secret-reading', 10);
    const back = keys('cmd/esp', 'plain-secret-command', 10);
    await until(() => atRemote.check(out).missing === 0 && atLocal.check(back).missing === 0, 'both directions across');
    expect(atRemote.check(out).duplicated).toBe(0);
    expect(atLocal.check(back).duplicated).toBe(0);
    await bridge.stop(2000);
    // Every byte that crossed the serial line, both ways, decoded from the trace.
    const crossed: Buffer[] = [];
    for await (const event of (await readTrace(trace)).events) if (event.dir !== 'note') crossed.push(event.data);
    const serial = Buffer.concat(crossed).toString('latin1');
    expect(serial).toContain('AT+CWJAP');
    expect(serial).toMatch(/\+IPD,\d+:/); // the broker's answers did come in through the module
    expect(serial).toContain(`AT+CIPSTART="TCP","localhost",${remoteBroker.tlsPort}`);
    expect(serial).not.toContain('plain-secret');
    expect(serial).not.toContain('correct horse');
  });

  it('a certificate that does not name the host is one log line whose fix names the bridge keys', async () => {
    const { remoteBroker } = world;
    const link = new RemoteLink({ host: '127.0.0.1', port: remoteBroker.tlsPort!, tls: { cafile: remoteBroker.certs!.caFile }, modem: undefined, log: () => undefined });
    const err = await link.connect().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'tls-failed', fix: expect.stringContaining('bridge_insecure true') });
    expect((err as Error).message).toMatch(/altnames/);
    await link.close();
  });
});

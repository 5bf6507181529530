import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll, messageLines, subscriber } from './cli-support.js';
import { uniqueId } from './support.js';

let broker: Mosquitto;
let hp: string[];

beforeAll(async () => {
  broker = await startMosquitto({ tls: true, persistence: false });
  hp = ['-h', '127.0.0.1', '-p', String(broker.port)];
});
afterAll(async () => {
  killAll();
  await broker?.stop();
});

describe.runIf(cliBuilt())('TLS on the host, over the byte stream', () => {
  it('--cafile verifies the broker; --insecure skips only the host name check', async () => {
    const topic = `tls/${uniqueId()}`;
    const ca = broker.certs!.caFile;
    const tlsPort = String(broker.tlsPort);
    const theirs = await subscriber('mosquitto', [...hp, '-t', topic, '-C', '2', '-v']);
    expect((await atbridge(['pub', '-h', 'localhost', '-p', tlsPort, '--cafile', ca, '-t', topic, '-m', 'verified', '-q', '1'])).code).toBe(0);
    const mismatch = await atbridge(['pub', '-h', '127.0.0.1', '-p', tlsPort, '--cafile', ca, '-t', topic, '-m', 'x']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/TLS handshake with the broker failed/);
    expect((await atbridge(['pub', '-h', '127.0.0.1', '-p', tlsPort, '--cafile', ca, '--insecure', '-t', topic, '-m', 'insecure', '-q', '1'])).code).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout())).toEqual([`${topic} verified`, `${topic} insecure`]);
  });

  it('--capath trusts the PEM certificates of a directory; a directory without one is a clear error', async () => {
    const topic = `tls/${uniqueId()}`;
    const dir = mkdtempSync(join(tmpdir(), 'atb-capath-'));
    copyFileSync(broker.certs!.caFile, join(dir, 'test-ca.pem'));
    writeFileSync(join(dir, 'README'), 'not a certificate\n');
    const theirs = await subscriber('mosquitto', [...hp, '-t', topic, '-C', '1', '-v']);
    const ok = await atbridge(['pub', '-h', 'localhost', '-p', String(broker.tlsPort), '--capath', dir, '-t', topic, '-m', 'by-capath', '-q', '1']);
    expect(ok.code).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout())).toEqual([`${topic} by-capath`]);
    const empty = mkdtempSync(join(tmpdir(), 'atb-capath-empty-'));
    const bad = await atbridge(['pub', '-h', 'localhost', '-p', String(broker.tlsPort), '--capath', empty, '-t', topic, '-m', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/--capath .* holds no PEM certificate/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a broker whose CA is not trusted, and talks mutual TLS with --cert/--key', async () => {
    const mutual = await startMosquitto({ tls: { requireCertificate: true }, persistence: false });
    try {
      const port = String(mutual.tlsPort);
      const untrusted = await atbridge(['pub', '-h', 'localhost', '-p', port, '--cafile', '/etc/ssl/certs/ca-certificates.crt', '-t', 'a', '-m', 'x']);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/TLS handshake/);
      const c = mutual.certs!;
      const ok = await atbridge(['pub', '-h', 'localhost', '-p', port, '--cafile', c.caFile, '--cert', c.clientCert, '--key', c.clientKey, '-t', 'a', '-m', 'x', '-q', '1']);
      expect(ok).toMatchObject({ code: 0 });
      const noCert = await atbridge(['pub', '-h', 'localhost', '-p', port, '--cafile', c.caFile, '-t', 'a', '-m', 'x', '-q', '1']);
      expect(noCert.code).not.toBe(0);
    } finally {
      await mutual.stop();
    }
  });
});

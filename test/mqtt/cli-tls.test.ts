import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
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

  it('--tls-keylog writes the session keys in NSS key log format (2.1), through the module too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-keylog-'));
    const ca = broker.certs!.caFile;
    const base = ['-h', 'localhost', '-p', String(broker.tlsPort), '--cafile', ca, '-t', `tls/${uniqueId()}`, '-m', 'k', '-q', '1'];
    for (const [name, extra] of [['direct', []], ['module', ['--device', 'emu:sim7600?pacing=0']]] as const) {
      const file = join(dir, `${name}.keys`);
      const r = await atbridge(['pub', ...base, ...extra, '--tls-keylog', file]);
      expect(r.code, r.stderr).toBe(0);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      // TLS 1.3: the handshake and traffic secrets, each "LABEL <client random hex> <secret hex>".
      expect(lines.map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0']));
      for (const line of lines) expect(line).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
    }
  });

  it('--tls-version, --ciphers and --tls-alpn reach the handshake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-tlsopts-'));
    const base = ['-h', 'localhost', '-p', String(broker.tlsPort), '--cafile', broker.certs!.caFile, '-t', `tls/${uniqueId()}`, '-m', 'o', '-q', '1'];
    const keys = join(dir, 'keys');
    // --tls-version is the lowest version allowed (as in mosquitto): tlsv1.3 gives a TLS 1.3 key log.
    const ok = await atbridge(['pub', ...base, '--tls-version', 'tlsv1.3', '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256', '--tls-alpn', 'mqtt', '--tls-keylog', keys]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(keys, 'utf8')).toMatch(/^CLIENT_TRAFFIC_SECRET_0 /m);
    // A cipher list OpenSSL cannot use fails before any byte is sent: the option is applied.
    const bad = await atbridge(['pub', ...base, '--ciphers', 'NO-SUCH-CIPHER']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/^Error: /);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const wrong = await atbridge(['pub', ...base, '--tls-version', 'tlsv9']);
    expect({ code: wrong.code, err: wrong.stderr }).toEqual({ code: 1, err: 'Error: Problem setting TLS options, check the options are valid.\n' });
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
    // An empty CA, certificate or key file is named before any connection, not found in the handshake.
    const blank = join(dir, 'blank.pem');
    writeFileSync(blank, '');
    for (const args of [['--cafile', blank], ['--cafile', broker.certs!.caFile, '--cert', blank, '--key', broker.certs!.clientKey]]) {
      const r = await atbridge(['pub', '-h', 'localhost', '-p', String(broker.tlsPort), ...args, '-t', topic, '-m', 'x']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/--(?:cafile|cert) .*blank\.pem holds no PEM block/);
    }
  });

  it('--psk/--psk-identity: TLS-PSK through the emulated module to a psk_file listener; a wrong key is one line with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-psk-'));
    writeFileSync(join(dir, 'psk'), 'gw-1:0a1b2c3d4e5f60718293\n');
    const pskPort = await freePort();
    const pskBroker = await startMosquitto({ persistence: false, extraConfig: [`listener ${pskPort} 127.0.0.1`, 'psk_hint atbridge-test', `psk_file ${join(dir, 'psk')}`] });
    try {
      const topic = `psk/${uniqueId()}`;
      const theirs = await subscriber('mosquitto', ['-h', '127.0.0.1', '-p', String(pskBroker.port), '-t', topic, '-C', '1', '-v']);
      const psk = ['-h', '127.0.0.1', '-p', String(pskPort), '--psk-identity', 'gw-1', '-t', topic, '-q', '1'];
      const ok = await atbridge(['pub', '--device', 'emu:sim7600?pacing=0', ...psk, '--psk', '0a1b2c3d4e5f60718293', '-m', 'by-psk']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(await theirs.exited).toBe(0);
      expect(messageLines(theirs.stdout())).toEqual([`${topic} by-psk`]);
      const wrong = await atbridge(['pub', ...psk, '--psk', 'ffffffffffffffffffff', '-m', 'x']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.trim().split('\n')[0]).toMatch(/TLS handshake with the broker failed/);
      expect(wrong.stderr).toMatch(/psk_file/);
      expect(wrong.stderr).not.toContain('ffffffffffffffffffff');
      for (const [args, message] of [
        // mosquitto_pub's words and exit code (1) for these.
        [['--psk', '0a1b'], /^Error: --psk-identity required if --psk used\.$/],
        [['--psk', 'xyz', '--psk-identity', 'gw-1'], /^Error: Problem setting TLS-PSK options\.$/],
        [['--psk', '0a1b', '--psk-identity', 'gw-1', '--cafile', broker.certs!.caFile], /^Error: Only one of --psk or --cafile\/--capath may be used at once\.$/],
      ] as const) {
        const bad = await atbridge(['pub', '-p', String(pskPort), '-t', topic, '-m', 'x', ...args]);
        expect(bad.code).toBe(1);
        expect(bad.stderr.trim().split('\n')[0]).toMatch(message);
      }
    } finally {
      await pskBroker.stop();
    }
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

/** The mosquitto-style option parser of pub/sub/rr, in process (the behaviour end to end is in test/mosquitto-suite). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFileArgs, parseMosqArgs, parseSocksUrl } from '../../src/mqtt/cli/mosq-args.js';
import { MosqUsageError } from '../../src/mqtt/cli/mosq-errors.js';

const none = { XDG_CONFIG_HOME: '/nonexistent' };
const config = (tool: 'pub' | 'sub' | 'rr', args: string[], env: NodeJS.ProcessEnv = none) => {
  const r = parseMosqArgs(tool, args, env);
  if (r.kind !== 'config') throw new Error(r.kind);
  return r.config;
};
const usage = (tool: 'pub' | 'sub' | 'rr', args: string[]) => {
  try {
    parseMosqArgs(tool, args, none);
  } catch (err) {
    if (err instanceof MosqUsageError) return err.text;
    throw err;
  }
  return undefined;
};

describe('pub/sub/rr options, read as mosquitto reads them', () => {
  it('an options file line is the first word and the rest of the line as one argument; # lines are comments', () => {
    expect(optionsFileArgs('-t a/b\n# -q 2\n-m hello world\r\n-r\n\n')).toEqual([['-t', 'a/b'], ['-m', 'hello world'], ['-r']]);
  });

  it('reads $XDG_CONFIG_HOME/mosquitto_<tool> (else ~/.config) before the command line, and -o instead of both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-opts-'));
    try {
      writeFileSync(join(dir, 'mosquitto_pub'), '-t from/file\n-q 1\n');
      writeFileSync(join(dir, 'other'), '-t from/o\n');
      expect(config('pub', ['-m', 'x'], { XDG_CONFIG_HOME: dir })).toMatchObject({ topic: 'from/file', qos: 1 });
      expect(config('pub', ['-m', 'x', '-q', '2'], { XDG_CONFIG_HOME: dir }).qos).toBe(2);
      expect(config('pub', ['-m', 'x', '-o', join(dir, 'other')], { XDG_CONFIG_HOME: dir })).toMatchObject({ topic: 'from/o', qos: 0 });
      expect(config('pub', ['-m', 'x', '-t', 't'], { HOME: join(dir, 'none') }).topic).toBe('t'); // no file: nothing read
      expect(usage('sub', ['-o', 'a', '-o', 'b'])).toBe('Error: Duplicate -o argument given.\n\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('numbers as C reads them: atoi for -q and -p, strtol for -x', () => {
    expect(config('pub', ['-t', 't', '-m', 'x', '-q', '1abc']).qos).toBe(1);
    expect(usage('pub', ['-p', '-1'])).toBe('Error: Invalid port given: -1\n');
    expect(config('pub', ['-t', 't', '-m', 'x', '-x', '0x10', '-i', 'c']).sessionExpiry).toBe(16);
    expect(config('pub', ['-t', 't', '-m', 'x', '-x', '-1', '-i', 'c']).sessionExpiry).toBe(0xffffffff);
    expect(usage('pub', ['-x', '12s'])).toBe('Error: session-expiry-interval not a number.\n\n');
  });

  it('-D builds MQTT 5 properties per packet and turns MQTT 5 on', () => {
    const c = config('sub', ['-t', 't', '-D', 'subscribe', 'subscription-identifier', '7', '-D', 'connect', 'user-property', 'k', 'v1', '-D', 'connect', 'user-property', 'k', 'v2', '-D', 'will', 'payload-format-indicator', '1']);
    expect(c.protocolVersion).toBe(5);
    expect(c.props.subscribe).toEqual({ subscriptionIdentifier: 7 });
    expect(c.props.connect).toEqual({ userProperties: { k: ['v1', 'v2'] } });
    expect(c.props.will).toEqual({ payloadFormatIndicator: true });
    expect(usage('pub', ['-D', 'publish', 'session-expiry-interval', '1'])).toBe('Error: session-expiry-interval property not allowed for publish in --property argument.\n\n');
  });

  it('options a tool does not have are unknown to it', () => {
    expect(usage('pub', ['-C', '1'])).toBe("Error: Unknown option '-C'.\n");
    expect(usage('sub', ['-m', 'x'])).toBe("Error: Unknown option '-m'.\n");
    expect(usage('rr', ['-r'])).toBe("Error: Unknown option '-r'.\n");
    expect(config('rr', ['-t', 'q', '-e', 'r', '-m', 'x']).protocolVersion).toBe(5); // rr defaults to MQTT 5
  });

  it('-L and --proxy URLs', () => {
    expect(config('sub', ['-L', 'mqtts://u:p@broker:8884/a/b'])).toMatchObject({ host: 'broker', port: 8884, username: 'u', password: 'p', topics: ['a/b'] });
    expect(config('pub', ['-L', 'ws://h/t', '-m', 'x'])).toMatchObject({ transport: 'ws', port: 1883, topic: 't' });
    expect(parseSocksUrl('socks5h://user:pass%3Aword@[::1]:1081')).toEqual({ host: '::1', port: 1081, username: 'user', password: 'pass:word' });
    expect(parseSocksUrl('socks5h://proxy')).toEqual({ host: 'proxy', port: 1080 });
    expect(() => parseSocksUrl('socks4://proxy')).toThrow('Unsupported proxy protocol');
  });

  it('atbridge options (--device and the modem options, --queue) are taken anywhere', () => {
    expect(config('pub', ['--device', 'emu:sim7600', '-t', 't', '--apn', 'internet', '-m', 'x', '--transparent']).modem).toEqual({ '--device': 'emu:sim7600', '--apn': 'internet', '--transparent': true });
  });
});

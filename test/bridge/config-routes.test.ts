import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecorrelatedJitter } from '../../src/bridge/backoff.js';
import { mergeSettings, parseConfigText, printSettings, resolveConfig } from '../../src/bridge/config.js';
import { buildStatus, BridgeStats } from '../../src/bridge/health.js';
import { parseListenAddress, renderMetrics } from '../../src/bridge/metrics.js';
import { carriesIn, carriesOut, parseTopicLine, toLocalTopic, toRemoteTopic } from '../../src/bridge/routes.js';
import { markConnectAsBridge } from '../../src/bridge/stream-tap.js';
import mqttPacket from 'mqtt-packet';

describe('topic lines (mosquitto.conf syntax)', () => {
  it('applies the defaults: out, QoS 0, no prefixes', () => {
    expect(parseTopicLine('sensors/#')).toMatchObject({ pattern: 'sensors/#', direction: 'out', qos: 0, localPrefix: '', remotePrefix: '' });
    expect(parseTopicLine('cmd/# in 2')).toMatchObject({ direction: 'in', qos: 2 });
  });

  it('maps topics between the prefixes, as mosquitto does', () => {
    const route = parseTopicLine('# both 1 site/ cloud/gw1/');
    expect(carriesOut(route, 'site/t/1')).toBe(true);
    expect(carriesOut(route, 'other/t')).toBe(false);
    expect(toRemoteTopic(route, 'site/t/1')).toBe('cloud/gw1/t/1');
    expect(carriesIn(route, 'cloud/gw1/cmd')).toBe(true);
    expect(toLocalTopic(route, 'cloud/gw1/cmd')).toBe('site/cmd');
    expect(carriesIn(parseTopicLine('a/# out 1'), 'a/b')).toBe(false);
  });

  it('takes "" for an empty pattern: the prefixes are then the whole topics', () => {
    const route = parseTopicLine('"" out 1 local/temp remote/gw1/temp');
    expect(carriesOut(route, 'local/temp')).toBe(true);
    expect(toRemoteTopic(route, 'local/temp')).toBe('remote/gw1/temp');
  });

  it('refuses malformed lines with one clear error', () => {
    expect(() => parseTopicLine('a/# sideways')).toThrow(/direction must be out, in or both/);
    expect(() => parseTopicLine('a/# out 3')).toThrow(/QoS must be 0, 1 or 2/);
    expect(() => parseTopicLine('a/# out 1 onlyone')).toThrow(/1, 2, 3 or 5 words/);
    expect(() => parseTopicLine('a/#/b')).toThrow(/'#' must be a whole level/);
    expect(() => parseTopicLine('x out 0 a/+/ b/')).toThrow(/wildcards/);
  });
});

describe('config file', () => {
  const text = `
# a gateway
connection pi-gw
local mqtt://127.0.0.1:1883
address broker.example.com:1883
device emu:sim7600
topic sensors/# out 1
topic cmd/# in 1
remote_username gw
remote_password hunter2
restart_timeout 2 20
bridge_protocol_version mqttv50
`;

  it('reads mosquitto keys and fills defaults', () => {
    const config = resolveConfig(parseConfigText(text), {});
    expect(config.id).toBe('pi-gw');
    expect(config.remote).toMatchObject({ host: 'broker.example.com', port: 1883, clientId: 'atbridge-pi-gw', username: 'gw', password: 'hunter2', clean: false, protocolVersion: 5 });
    expect(config.restart).toEqual({ baseMs: 2000, capMs: 20_000 });
    expect(config.routes).toHaveLength(2);
    expect(config.notifications).toEqual({ enabled: true, topic: 'atbridge/pi-gw/state' });
    expect(config.status.topic).toBe('atbridge/pi-gw/status');
    expect(config.queue.fsync).toBe('always');
    expect(config.modem?.device).toBe('emu:sim7600');
  });

  it('bridge_capath (or bridge_cafile) turns on TLS to the remote; a missing file is named by its key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-capath-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = resolveConfig(parseConfigText(`${text}\nbridge_capath ${dir}\n`), {});
    expect(config.remote.tls).toEqual({ capath: dir });
    expect(resolveConfig(parseConfigText(text), {}).remote.tls).toBeUndefined();
    expect(() => resolveConfig(parseConfigText(`${text}\nbridge_cafile /nonexistent/ca.pem\n`), {})).toThrow(/cannot read bridge_cafile \/nonexistent\/ca.pem/);
  });

  it('bridge_psk with bridge_identity is TLS-PSK (key from ATBRIDGE_REMOTE_PSK too), never with certificates, masked when printed', () => {
    const psk = `${text}\nbridge_identity gw-1\nbridge_psk 0a1b2c3d\n`;
    expect(resolveConfig(parseConfigText(psk), {}).remote.tls).toEqual({ psk: { identity: 'gw-1', key: '0a1b2c3d' } });
    expect(resolveConfig(parseConfigText(`${text}\nbridge_identity gw-1\n`), { ATBRIDGE_REMOTE_PSK: 'beef' }).remote.tls).toEqual({ psk: { identity: 'gw-1', key: 'beef' } });
    expect(() => resolveConfig(parseConfigText(`${text}\nbridge_psk 0a1b\n`), {})).toThrow(/bridge_psk and bridge_identity go together/);
    expect(() => resolveConfig(parseConfigText(`${text}\nbridge_identity a\nbridge_psk 0g\n`), {})).toThrow(/bridge_psk must be hexadecimal/);
    expect(() => resolveConfig(parseConfigText(`${psk}bridge_cafile /x.pem\n`), {})).toThrow(/either bridge_psk or certificates/);
    expect(printSettings(parseConfigText(psk))).not.toContain('0a1b2c3d');
  });

  it('lets flags override keys and add topic lines', () => {
    const merged = mergeSettings(parseConfigText(text), new Map([['connection', ['other']], ['topic', ['extra/# out 0']]]));
    const config = resolveConfig(merged, {});
    expect(config.id).toBe('other');
    expect(config.routes.map((r) => r.pattern)).toEqual(['sensors/#', 'cmd/#', 'extra/#']);
  });

  it('masks secrets when printed', () => {
    const printed = printSettings(parseConfigText(`${text}\nlocal mqtt://u:pw@127.0.0.1:1883\nwifi_password x y z\n`));
    expect(printed).not.toMatch(/hunter2|:pw@|x y z/);
    expect(printed).toContain('remote_password ***');
  });

  it('names the file and line of an unknown key', () => {
    expect(() => parseConfigText('connection a\nbridge_bogus 1\n', '/etc/atbridge/bridge.conf')).toThrow(/bridge\.conf:2: unknown key "bridge_bogus"/);
  });
});

describe('restart_timeout backoff', () => {
  it('stays between BASE and CAP with decorrelated jitter, and is constant without CAP', () => {
    const jitter = new DecorrelatedJitter(1000, 30_000, () => 1);
    const waits = Array.from({ length: 6 }, () => jitter.next());
    expect(waits).toEqual([3000, 9000, 27_000, 30_000, 30_000, 30_000]);
    jitter.reset();
    expect(jitter.next()).toBe(3000);
    const low = new DecorrelatedJitter(1000, 30_000, () => 0);
    expect(low.next()).toBe(1000);
    expect(new DecorrelatedJitter(5000, undefined).next()).toBe(5000);
  });
});

describe('try_private', () => {
  it('sets the bridge bit of a 3.1.1 CONNECT and leaves other packets alone', () => {
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x'.repeat(200), clean: true, keepalive: 60 });
    const marked = markConnectAsBridge(connect);
    const parsed: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: mqttPacket.Packet) => parsed.push(p));
    parser.parse(marked);
    expect(parsed[0]).toMatchObject({ cmd: 'connect', protocolVersion: 4, bridgeMode: true, clientId: 'x'.repeat(200) });
    const publish = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('p'), qos: 0, dup: false, retain: false });
    expect(markConnectAsBridge(publish)).toBe(publish);
  });
});

describe('metrics', () => {
  it('renders the status numbers as Prometheus text', () => {
    const stats = new BridgeStats();
    stats.setLink('up');
    stats.out.messages = 7;
    const status = buildStatus('gw', 'mqtt://x:1883', stats, { out: { messages: 2, bytes: 10, dropped: 1 }, in: { messages: 0, bytes: 0, dropped: 0 } }, { rssi: 21, recoveries: 1 });
    const text = renderMetrics(status);
    expect(text).toContain('atbridge_link_up 1');
    expect(text).toContain('atbridge_messages_total{direction="out"} 7');
    expect(text).toContain('atbridge_queue_messages{direction="out"} 2');
    expect(text).toContain('atbridge_module_rssi 21');
    expect(text).toMatch(/# TYPE atbridge_messages_total counter/);
  });

  it('parses the listen address', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(() => parseListenAddress('localhost')).toThrow(/HOST:PORT/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecorrelatedJitter } from '../../src/bridge/backoff.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { configSettings, mergeSettings, parseConfigText, printConfig, printSettings, resolveConfig, type BridgeConfig } from '../../src/bridge/config.js';
import { buildStatus, BridgeStats } from '../../src/bridge/health.js';
import { parseListenAddress, renderMetrics } from '../../src/bridge/metrics.js';
import { carriesIn, carriesOut, parseTopicLine, toLocalTopic, toRemoteTopic } from '../../src/bridge/routes.js';
import { RemoteLink } from '../../src/bridge/remote-link.js';
import { markConnectAsBridge } from '../../src/bridge/stream-tap.js';
import { freePort } from '../helpers/mosquitto.js';
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

  it('refuses an empty value (a flag can give one, a config file cannot hold it)', () => {
    expect(() => resolveConfig(mergeSettings(parseConfigText(text), new Map([['remote_username', ['']]])), {})).toThrow(/remote_username needs a value/);
    expect(() => resolveConfig(mergeSettings(parseConfigText(text), new Map([['connection', [' ']]])), {})).toThrow(/connection needs a value/);
  });

  it('names the file and line of an unknown key', () => {
    expect(() => parseConfigText('connection a\nbridge_bogus 1\n', '/etc/atbridge/bridge.conf')).toThrow(/bridge\.conf:2: unknown key "bridge_bogus"/);
  });
});

/** A resolved configuration without its secrets (masked as *** when printed) and the topic lines' own spelling. */
function withoutSecrets(config: BridgeConfig): unknown {
  const { password: _rp, ...remote } = config.remote;
  const { password: _lp, ...local } = config.local;
  const { pin: _pin, wifiPassword: _wp, secrets: _s, ...modem } = config.modem ?? { device: '' };
  const tls = remote.tls?.psk ? { ...remote.tls, psk: { identity: remote.tls.psk.identity } } : remote.tls;
  return { ...config, remote: { ...remote, tls }, local, modem: config.modem ? modem : undefined, routes: config.routes.map(({ text: _t, ...route }) => route) };
}

describe('--print-config: the configuration in effect', () => {
  const roundTrip = (config: BridgeConfig, env: NodeJS.ProcessEnv = {}) => resolveConfig(parseConfigText(printConfig(config), 'printed'), env);

  it('shows the defaults in effect, as keys the bridge reads back', () => {
    const printed = printConfig(resolveConfig(parseConfigText('connection gw\nremote broker.example.com\ntopic sensors/#\n'), {}));
    for (const line of [
      'connection gw',
      'local mqtt://127.0.0.1:1883',
      'remote mqtt://broker.example.com:1883',
      'topic sensors/# out 0',
      'remote_clientid atbridge-gw',
      'local_clientid atbridge-local-gw',
      'cleansession false',
      'keepalive_interval 60',
      'connect_timeout 30',
      'restart_timeout 5 30',
      'notifications true',
      'notification_topic atbridge/gw/state',
      'bridge_protocol_version mqttv311',
      'try_private true',
      `queue_dir ${join(homedir(), '.local', 'state', 'atbridge', 'gw')}`,
      'queue_max_messages 100000',
      'queue_max_bytes 67108864',
      'queue_fsync always',
      'status_topic atbridge/gw/status',
      'status_interval 60',
      'drain_timeout 10',
    ]) {
      expect(printed.split('\n')).toContain(line);
    }
    expect(printed).not.toMatch(/^(device|remote_password|local_password|bridge_(cafile|capath|certfile|keyfile|insecure|identity|psk)|queue_max_age|metrics) /m);
    expect(() => parseConfigText(printed)).not.toThrow();
  });

  it('prints every secret that is set as ***, also from ATBRIDGE_* variables and user:password@ URLs', () => {
    const env = { ATBRIDGE_REMOTE_PASSWORD: 'envremote', ATBRIDGE_SIM_PIN: '4321', ATBRIDGE_WIFI_PASSWORD: 'envwifi', ATBRIDGE_REMOTE_PSK: 'beefcafe' };
    const config = resolveConfig(
      parseConfigText('connection gw\nremote mqtt://gw@broker.example.com\nlocal mqtt://lu:urlpw@127.0.0.1\ndevice emu:esp-at\nbridge_identity gw-1\ntopic a/#\n'),
      env,
    );
    expect(config.modem).toMatchObject({ pin: '4321', wifiPassword: 'envwifi' });
    const printed = printConfig(config);
    for (const key of ['remote_password', 'local_password', 'pin', 'wifi_password', 'bridge_psk']) expect(printed).toContain(`\n${key} ***\n`);
    expect(printed).toContain('\nremote_username gw\n');
    expect(printed).toContain('\nlocal_username lu\n');
    expect(printed).toContain('\nremote mqtts://broker.example.com:1883\n');
    expect(printed).not.toMatch(/envremote|4321|envwifi|beefcafe|urlpw/);
    // Nothing printed, nothing masked, when no secret is set.
    expect(printConfig(resolveConfig(parseConfigText('remote h\ntopic a\ndevice emu:sim7600\n'), {}))).not.toContain('***');
  });

  it('round-trips: the printed text, read as a config file, resolves to the same configuration (secrets aside)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atb-print-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const full = resolveConfig(
      parseConfigText(`
connection pi-gw
local mqtt://lu:lpw@[::1]:1884
address broker.example.com:8883 backup.example.com:8883
device emu:sim7600?pacing=0
profile sim7600
baud 115200
set_baud 921600
transparent true
recv_mode buffered
apn internet
pin 1234
trace ${join(dir, 'trace.jsonl')}
topic sensors/# out 1
topic # both 2 site/ cloud/gw1/
topic "" in 0 local/temp remote/gw1/temp
remote_clientid rc
remote_username gw
remote_password hunter2
local_password lpw2
cleansession true
keepalive_interval 30
restart_timeout 0.25
notifications false
notification_topic n/t
bridge_protocol_version mqttv50
try_private false
bridge_capath ${dir}
bridge_insecure true
queue_dir ${dir}/q
queue_max_messages 10
queue_max_bytes 2048
queue_max_age 3600.5
queue_fsync never
status_topic s/t
status_interval 0
metrics 127.0.0.1:9464
drain_timeout 2.5
`),
      {},
    );
    expect(withoutSecrets(roundTrip(full))).toEqual(withoutSecrets(full));
    const minimal = resolveConfig(parseConfigText('remote h\ntopic a\n'), {});
    expect(withoutSecrets(roundTrip(minimal))).toEqual(withoutSecrets(minimal));
    // Unmasked, secrets come back too (PSK included).
    const psk = resolveConfig(parseConfigText('remote h\ntopic a\nbridge_identity i\nbridge_psk 0a1b\nremote_username u\nremote_password p\n'), {});
    const unmasked = [...configSettings(psk)].flatMap(([key, values]) => values.map((v) => `${key} ${v}`)).join('\n');
    const again = resolveConfig(parseConfigText(unmasked), {});
    expect({ ...again, routes: [] }).toEqual({ ...psk, routes: [] });
    expect(again.remote).toMatchObject({ password: 'p', tls: { psk: { identity: 'i', key: '0a1b' } } });
  });
});

describe('local broker down', () => {
  it('logs "cannot reach" once per outage, not on every quick retry', async () => {
    const [localPort, remotePort] = await Promise.all([freePort(), freePort()]);
    const config = resolveConfig(
      parseConfigText(`local mqtt://127.0.0.1:${localPort}\nremote mqtt://127.0.0.1:${remotePort}\ntopic a/#\nrestart_timeout 60\nstatus_interval 0\nqueue_dir ${mkdtempSync(join(tmpdir(), 'atb-down-'))}`),
      {},
    );
    const log: string[] = [];
    const link = new RemoteLink({ host: config.remote.host, port: config.remote.port, tls: undefined, modem: undefined, log: (l) => log.push(l) });
    const bridge = new Bridge({ ...config, link, log: (l) => log.push(l) });
    bridge.start();
    // The local client retries after 0.125–0.25 s, 0.25–0.5 s, 0.5–1 s: at least three attempts by now.
    await new Promise((r) => setTimeout(r, 1800));
    await bridge.stop(0);
    expect(log.filter((l) => l.startsWith('local: cannot reach'))).toEqual([`local: cannot reach 127.0.0.1:${localPort}: connect ECONNREFUSED 127.0.0.1:${localPort}`]);
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

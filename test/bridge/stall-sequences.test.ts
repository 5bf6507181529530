import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/emulator/index.js';
import { startTcpFront, type RunningFront } from '../../src/emulator/fronts.js';
import type { Transition } from '../../src/modem/states.js';
import { startLineProxy, type LineProxy } from '../helpers/line-proxy.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { inProcessBridge, publisher, startBridging, stopAll, until, watcher, type Tally } from './support.js';
import type { Bridge } from '../../src/bridge/bridge.js';
import type { MqttClient } from '../../src/mqtt/client.js';

/**
 * The stall sequences of issue 21, each reproduced on real parts: two mosquittos, the bridge in
 * this process, an emulated SIM7600 served over raw TCP (as ser2net serves a module) behind a
 * line proxy that resets the connection at a chosen moment. After each fault the bridge must
 * carry messages again within the backoff cap (restart_timeout 0.1 0.5 here), plus bring-up.
 */
const CAP_MS = 500;
/** Bring-up on a fresh link with pacing off, and the MQTT reconnect: generous, but far below a stall. */
const RESUME_MS = CAP_MS + 8000;

let local: Mosquitto;
let remote: Mosquitto;
let front: RunningFront;
let proxy: LineProxy;
let atRemote: Tally;
let localPub: MqttClient;
let bridge: Bridge | undefined;
let log: string[] = [];

beforeAll(async () => {
  [local, remote] = await Promise.all([startMosquitto(), startMosquitto()]);
  front = await startTcpFront('127.0.0.1', 0, { ...DEFAULT_OPTIONS, profile: 'sim7600', pacing: false, registerAfterMs: 0 });
  const [host, port] = front.address.split(':');
  proxy = await startLineProxy({ host: host!, port: Number(port) });
  atRemote = await watcher(remote, ['stall/#', 'sensors/#']);
  localPub = await publisher(local);
}, 30_000);

afterEach(async () => {
  await bridge?.stop(1000);
  bridge = undefined;
  await proxy.accept();
});

afterAll(async () => {
  await stopAll(undefined, [localPub, atRemote?.client], [local, remote]);
  await proxy?.close();
  await front?.close();
});

function newBridge(): Bridge {
  log = [];
  bridge = inProcessBridge(local, remote, ['topic sensors/# out 1', 'topic stall/# out 1', 'profile sim7600'], log, { device: `tcp://${proxy.address}` });
  return bridge;
}

/** Publishes one message locally and waits for it at the remote: delivery works (again). */
async function delivers(tag: string, withinMs = RESUME_MS): Promise<number> {
  const started = Date.now();
  const key = `stall/${tag} ${tag}`;
  const pub = localPub.publish(`stall/${tag}`, tag, { qos: 1 });
  await until(() => atRemote.count(key) > 0, `${key} at the remote`, withinMs);
  await pub;
  return Date.now() - started;
}

function modemStates(b: Bridge): Transition[] {
  const seen: Transition[] = [];
  const session = b.remoteLink.session;
  session?.modem.on('state', (t: Transition) => seen.push(t));
  return seen;
}

describe('stall sequences (issue 21), each with its own regression', () => {
  it('link closes while a rebooted module is brought up again: the device is reopened, delivery resumes', async () => {
    const b = newBridge();
    await startBridging(b, localPub, atRemote);
    const states = modemStates(b);
    const before = proxy.connections;
    // The module reboots; the first probe of its bring-up resets the line (ser2net dropped it).
    proxy.resetWhenHostSends(/^AT\r/);
    front.module.inject({ kind: 'reboot' });
    const ms = await delivers('after-reboot-reset');
    expect(proxy.connections).toBeGreaterThan(before); // a new link, not retries on the dead one
    // The dead session never left `closed` for another bring-up, and never said "closed" for long.
    const afterClose = states.slice(states.findIndex((t) => t.to === 'closed') + 1);
    expect(states.some((t) => t.to === 'closed')).toBe(true);
    expect(afterClose).toEqual([]);
    expect(log.filter((l) => /the modem session is closed/.test(l)).length).toBeLessThanOrEqual(1);
    expect(ms).toBeLessThan(RESUME_MS);
  }, 30_000);

  it('link closes during the first bring-up: one clear retry, no twenty "SIM not ready yet" waits', async () => {
    const b = newBridge();
    proxy.resetWhenHostSends(/AT\+CPIN\?/);
    b.start();
    await until(() => b.stats.linkState === 'up', 'bridge up', RESUME_MS);
    expect(log.filter((l) => /SIM not ready yet/.test(l))).toEqual([]);
    await delivers('first-bringup-reset');
  }, 30_000);

  it('the line resets while the bridge waits to reconnect (remote broker down): no crash, delivery resumes', async () => {
    const b = newBridge();
    await startBridging(b, localPub, atRemote);
    remote.signal('SIGTERM');
    await until(() => b.stats.linkState !== 'up', 'remote connection lost');
    // The TCP link to the module resets while nothing reads it: an 'error' event with no listener
    // would end this process (vitest reports it as an unhandled error).
    proxy.reset();
    await new Promise((r) => setTimeout(r, 300));
    await remote.restart();
    await delivers('after-idle-reset');
  }, 40_000);

  it('the line is cut mid-payload, after the send prompt: the module left counting payload is brought back at once', async () => {
    // Found by the soak: a bridge killed (or a line cut) after the module's '>' leaves the module
    // taking every byte as payload; the next bring-up's AT probes vanished into it (14 s stalls).
    const b = newBridge();
    await startBridging(b, localPub, atRemote);
    proxy.resetMidPayload(/>\s*$/, 10);
    const big = 'x'.repeat(1000); // ~990 bytes left to count: 330 AT probes without the fix
    const pending = localPub.publish('stall/mid-payload', big, { qos: 1 });
    await until(() => proxy.midPayloadResets > 0, 'the line cut mid-payload', 10_000);
    const ms = await delivers('after-mid-payload-cut');
    expect(ms).toBeLessThan(RESUME_MS);
    await until(() => atRemote.count(`stall/mid-payload ${big}`) > 0, 'the cut message resent and delivered', RESUME_MS);
    await pending;
  }, 40_000);

  it('an open whose link digit flipped on the way (link 2 opened, not 0): that link is closed, the next open works', async () => {
    // 75f190a, found by the TLS noise test: `AT+CIPOPEN=0,…` reached the module as `AT+CIPOPEN=2,…`;
    // it opened link 2 and said `+CIPOPEN: 2,0`. The emulated SIM7600 has one socket: while link 2
    // stayed open every open of link 0 was refused (`+CIPOPEN: 0,4`) until the broker dropped it.
    const b = newBridge();
    proxy.rewriteWhenHostSends(/AT\+CIPOPEN=0,/, 'AT+CIPOPEN=2,');
    b.start();
    await until(() => b.stats.linkState === 'up', 'bridge up', RESUME_MS);
    expect(proxy.rewrites).toBe(1);
    // The module heard the flipped open, then the close of the link it opened, then our open again.
    const opens = proxy.hostText.slice(proxy.hostText.indexOf('AT+CIPOPEN=2,'));
    expect(opens).toMatch(/^AT\+CIPOPEN=2,[^]*AT\+CIPCLOSE=2\r[^]*AT\+CIPOPEN=0,/);
    expect(log.filter((l) => /open refused/.test(l))).toEqual([]);
    await delivers('after-orphan-link');
  }, 30_000);

  it('the device is refused for a while (unplugged), then back: the bridge reopens it', async () => {
    const b = newBridge();
    await startBridging(b, localPub, atRemote);
    await proxy.refuse();
    proxy.reset();
    const pending = localPub.publish('stall/unplugged', 'unplugged', { qos: 1 });
    await until(() => log.some((l) => /cannot reach tcp:|link closed|opening .* again/.test(l)), 'bridge noticed', 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    await proxy.accept();
    await until(() => atRemote.count('stall/unplugged unplugged') > 0, 'queued message delivered after re-plug', RESUME_MS + 2000);
    await pending;
  }, 40_000);
});

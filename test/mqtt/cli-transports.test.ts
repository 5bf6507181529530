/**
 * pub/sub/rr transports beyond plain TCP, against real programs: mosquitto's WebSocket listener
 * (--ws, ws://), Debian's microsocks (--proxy), a Unix socket listener (--unix); directly and
 * through the emulated SIM7600.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll, messageLines, subscriber } from './cli-support.js';
import { uniqueId } from './support.js';

const hasMicrosocks = existsSync('/usr/bin/microsocks');

describe.runIf(cliBuilt())('pub/sub/rr over WebSocket, SOCKS5 and a Unix socket', () => {
  let broker: Mosquitto;
  let wsPort: number;
  let dir: string;
  let socks: ChildProcess | undefined;
  let socksPort = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atb-transports-'));
    wsPort = await freePort();
    broker = await startMosquitto({ persistence: false, extraConfig: [`listener ${wsPort} 127.0.0.1`, 'protocol websockets', `listener 0 ${join(dir, 'mqtt.sock')}`] });
    if (hasMicrosocks) {
      socksPort = await freePort();
      socks = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(socksPort), '-u', 'user', '-P', 'pass:word'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
    }
  });
  afterAll(async () => {
    socks?.kill();
    killAll();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hp = () => ['-h', '127.0.0.1', '-p', String(broker.port)];

  it('--ws and ws:// URLs carry pub and sub, directly and through the module', async () => {
    const topic = `ws/${uniqueId()}`;
    const theirs = await subscriber('mosquitto', [...hp(), '-t', topic, '-C', '3', '-v']);
    const ours = await subscriber('atbridge', ['--ws', '-h', '127.0.0.1', '-p', String(wsPort), '-t', topic, '-C', '3']);
    const direct = await atbridge(['pub', '--ws', '-h', '127.0.0.1', '-p', String(wsPort), '-t', topic, '-m', 'direct', '-q', '1']);
    expect(direct.code, direct.stderr).toBe(0);
    const url = await atbridge(['pub', '-L', `ws://127.0.0.1:${wsPort}/${topic}`, '-m', 'url', '-q', '1']);
    expect(url.code, url.stderr).toBe(0);
    const module = await atbridge(['pub', '--device', 'emu:sim7600?pacing=0', '--ws', '-h', '127.0.0.1', '-p', String(wsPort), '-t', topic, '-m', 'module', '-q', '1']);
    expect(module.code, module.stderr).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout()).sort()).toEqual([`${topic} direct`, `${topic} module`, `${topic} url`]);
    expect(await ours.exited).toBe(0);
    expect(messageLines(ours.stdout()).sort()).toEqual(['direct', 'module', 'url']);
  });

  it.runIf(hasMicrosocks)('--proxy goes through a SOCKS5 proxy with user and password, also from the module; the password is never printed', async () => {
    const topic = `socks/${uniqueId()}`;
    const theirs = await subscriber('mosquitto', [...hp(), '-t', topic, '-C', '2', '-v']);
    const proxy = ['--proxy', `socks5h://user:pass%3Aword@127.0.0.1:${socksPort}`];
    const direct = await atbridge(['pub', ...hp(), ...proxy, '-t', topic, '-m', 'direct', '-q', '1', '-d']);
    expect(direct.code, direct.stderr).toBe(0);
    const module = await atbridge(['pub', '--device', 'emu:sim7600?pacing=0', ...hp(), ...proxy, '-t', topic, '-m', 'module', '-q', '1', '-d']);
    expect(module.code, module.stderr).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout()).sort()).toEqual([`${topic} direct`, `${topic} module`]);
    for (const r of [direct, module]) expect(r.stdout + r.stderr).not.toContain('pass:word');
    const wrong = await atbridge(['pub', ...hp(), '--proxy', `socks5h://user:nope@127.0.0.1:${socksPort}`, '-t', topic, '-m', 'x']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await atbridge(['pub', ...hp(), '--proxy', 'http://127.0.0.1:1', '-t', topic, '-m', 'x']);
    expect({ code: bad.code, err: bad.stderr }).toEqual({ code: 1, err: "Error: Unsupported proxy protocol: http://127.0.0.1:1\n\nUse 'atbridge pub --help' to see usage.\n" });
  });

  it('--unix connects to a Unix socket listener; rr gets its response there', async () => {
    const topic = `unix/${uniqueId()}`;
    const sock = join(dir, 'mqtt.sock');
    const responder = await subscriber('atbridge', ['--unix', sock, '-V', '5', '-t', `${topic}/req`, '-C', '1', '-F', '%R']);
    const rr = atbridge(['rr', '--unix', sock, '-t', `${topic}/req`, '-e', `${topic}/resp`, '-m', 'ping', '-W', '10']);
    expect(await responder.exited).toBe(0);
    expect(messageLines(responder.stdout())).toEqual([`${topic}/resp`]);
    const reply = await atbridge(['pub', '--unix', sock, '-t', `${topic}/resp`, '-m', 'pong']);
    expect(reply.code, reply.stderr).toBe(0);
    const result = await rr;
    expect({ code: result.code, out: result.stdout }).toEqual({ code: 0, out: 'pong\n' });
  });
});

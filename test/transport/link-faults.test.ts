import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import { DEFAULT_OPTIONS, startEmulator } from '../../src/emulator/index.js';
import { startPtyFront } from '../../src/emulator/fronts.js';
import { isLinkClosed } from '../../src/errors.js';
import { getProfile } from '../../src/profile/index.js';
import type { Link } from '../../src/transport/link.js';
import { SerialLink } from '../../src/transport/serial-link.js';
import { TappedLink } from '../../src/transport/tap.js';
import { TcpLink } from '../../src/transport/tcp-link.js';
import { openPtyPair } from '../helpers/pty.js';

/**
 * Issue 21, "no crash, ever": every kind of link — a serial device (a socat pty with the real
 * serialport), raw TCP (ser2net style), the emulator's pty front, the in-process emulator wire —
 * is walked through the ways a line dies (reset, EOF, EPIPE, unplug) in the middle of a read
 * (a command waiting for its answer) and of a write (a long write under way). Each time the
 * command fails with a link-closed error, the link reports one 'close', and nothing throws:
 * an unheard 'error' event would fail this file as an unhandled error.
 */
const profile = getProfile('sim7600');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  link: Link;
  /** Kills the line the way this fault does. */
  fault(): Promise<void> | void;
}

type Fault = 'reset' | 'eof' | 'epipe' | 'unplug';

/** A TCP listener that accepts one connection and says nothing (so commands wait); the fault is done to its end. */
async function tcpRig(fault: Fault): Promise<Rig> {
  let peer: net.Socket | undefined;
  const server = net.createServer((s) => {
    peer = s;
    s.on('error', () => undefined);
    s.on('data', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as net.AddressInfo;
  const link = await TcpLink.open('127.0.0.1', port);
  cleanups.push(() => link.close());
  while (!peer) await new Promise((r) => setTimeout(r, 5));
  return {
    link,
    fault() {
      if (fault === 'eof') peer!.end();
      else if (fault === 'unplug') server.close() && peer!.destroy();
      else peer!.resetAndDestroy(); // reset; and for EPIPE the host keeps writing into the reset socket
    },
  };
}

/** The real serialport on one end of a socat pty pair; the fault kills socat (the device vanishes: EIO / close). */
async function serialRig(): Promise<Rig> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  const link = await SerialLink.open({ path: pair.a, baud: 115200, exclusive: false });
  cleanups.push(() => link.close());
  return { link, fault: () => void pair.process.kill('SIGKILL') };
}

/** `atbridge emulate --pty` as a user opens it; the fault closes the front (socat ends). */
async function emulatorPtyRig(): Promise<Rig> {
  const path = `/tmp/atb-linkfault-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const front = await startPtyFront(path, { ...DEFAULT_OPTIONS, profile: 'sim7600', pacing: false, faults: [{ kind: 'silent' }] });
  cleanups.push(() => front.close());
  const link = await SerialLink.open({ path, baud: 115200, exclusive: false });
  cleanups.push(() => link.close());
  return { link, fault: () => front.close() };
}

/** The in-process wire (`emu:`); the fault powers it off and closes the wire. */
async function wireRig(): Promise<Rig> {
  const emu = startEmulator({ profile: 'sim7600', pacing: true, baud: 9600, faults: [{ kind: 'silent' }] });
  cleanups.push(() => emu.close());
  return { link: emu.link, fault: () => emu.close() };
}

const RIGS: [name: string, faults: Fault[], open: (f: Fault) => Promise<Rig>][] = [
  ['tcp', ['reset', 'eof', 'epipe', 'unplug'], tcpRig],
  ['serial (socat pty)', ['unplug'], serialRig],
  ['emulator pty front', ['unplug'], emulatorPtyRig],
  ['emulator wire', ['unplug'], wireRig],
];

async function expectLinkClosed(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the pending operation fails').toBeDefined();
  expect(isLinkClosed(err), `a link-closed error, not ${String(err)}`).toBe(true);
}

describe('every link kind survives the line dying mid-read and mid-write', () => {
  for (const [name, faults, open] of RIGS) {
    for (const fault of faults) {
      it(`${name}: ${fault} while a command waits for its answer (mid-read)`, async () => {
        const rig = await open(fault);
        const link = new TappedLink(rig.link);
        const notes: string[] = [];
        link.addTap({ tx: () => undefined, rx: () => undefined, note: (t) => notes.push(t) });
        const channel = new AtChannel(link, profile);
        const closed = new Promise<void>((r) => link.once('close', () => r()));
        const pending = channel.send('AT+CSQ', { timeoutMs: 20_000 });
        pending.catch(() => undefined); // checked below; the fault may take a while to return
        await new Promise((r) => setTimeout(r, 50));
        await rig.fault();
        if (fault === 'epipe') for (let i = 0; i < 5; i++) await link.write(Buffer.from('AT\r')).catch(() => undefined);
        await expectLinkClosed(pending);
        await closed;
        // Anything sent after the close fails at once with the same code.
        await expectLinkClosed(channel.send('AT', { timeoutMs: 20_000 }));
      }, 20_000);

      it(`${name}: ${fault} during a long write (mid-write)`, async () => {
        const rig = await open(fault);
        const link = new TappedLink(rig.link);
        const closed = new Promise<void>((r) => link.once('close', () => r()));
        const channel = new AtChannel(link, profile);
        // Far more than any OS buffer holds, so the write is still under way when the line dies.
        const big = Buffer.alloc(4 * 1024 * 1024, 0x55);
        const writing = (async () => {
          for (let i = 0; i < 50; i++) await link.write(big);
        })().then(() => undefined, (e: unknown) => e);
        await new Promise((r) => setTimeout(r, 30));
        await rig.fault();
        // The write either fails with link-closed or (pacing drained it) ends; then the link is closed.
        const err = await writing;
        if (err !== undefined) expect(isLinkClosed(err) || /closed|EPIPE|ECONNRESET|EIO|destroyed/i.test(String(err)), String(err)).toBe(true);
        await closed;
        await expectLinkClosed(channel.send('AT', { timeoutMs: 20_000 }));
      }, 20_000);
    }
  }
});

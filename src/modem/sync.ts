import type { AtChannel } from '../at/channel.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { ModuleProfile } from '../profile/index.js';
import { escapeDataMode } from './escape.js';
import { probeAtTimes } from './probe.js';

/** Rates tried by `--baud auto`, most likely first. Never a rate-changing command while searching. */
export const COMMON_RATES = [115200, 9600, 57600, 921600, 460800, 230400, 38400, 19200] as const;

export interface SyncOptions {
  /** The configured rate (tried first), or undefined to start at the profile's default. */
  baud: number | undefined;
  /** Search other rates when the first stays silent (`--baud auto`). */
  search: boolean;
  probesPerRate?: number;
  probeTimeoutMs?: number;
  note?: (text: string) => void;
  progress?: (text: string) => void;
  signal?: AbortSignal;
}

export interface RateEvidence {
  baud: number;
  /** Bytes heard while probing at this rate (garbage at a wrong rate, echo in passthrough). */
  bytesHeard: number;
  answered: boolean;
}

export interface SyncResult {
  baud: number;
  /** The module was found in transparent mode and brought back. */
  recoveredFromTransparent: boolean;
  tried: RateEvidence[];
}

/**
 * Finds the rate at which the module answers AT with a clean OK: the configured rate, then an
 * escape from transparent mode at that rate (a crashed program may have left it there), then the
 * common rates. Ends with `no-response` and what was heard at each rate.
 */
export async function syncModule(channel: AtChannel, profile: ModuleProfile, options: SyncOptions): Promise<SyncResult> {
  const link = channel.link;
  const note = options.note ?? (() => {});
  const probes = options.probesPerRate ?? 3;
  const probeMs = options.probeTimeoutMs ?? 500;
  const first = options.baud ?? link.baud ?? profile.data.serial.defaultBaud;
  const tried: RateEvidence[] = [];
  let heard = 0;
  const onData = (chunk: Buffer) => (heard += chunk.length);
  link.on('data', onData);
  try {
    const tryRate = async (baud: number): Promise<boolean> => {
      if (link.capabilities.baud && link.baud !== baud) await link.setBaud(baud);
      await link.flush();
      heard = 0;
      const ok = await probeAtTimes(channel, probes, probeMs, options.signal);
      tried.push({ baud, bytesHeard: heard, answered: ok });
      note(`sync: ${ok ? 'OK' : 'no OK'} to AT at ${baud} baud (${heard} bytes heard)`);
      return ok;
    };

    if (await tryRate(first)) return { baud: first, recoveredFromTransparent: false, tried };

    // Silence: perhaps a send left waiting for its data. After a fixed-length send's '>' prompt the
    // module counts every byte it gets as payload, AT and '+++' included, until the announced length
    // is reached; a program killed (or a line cut) mid-payload leaves it there, deaf to AT for as
    // many probes as the rest takes. No send announces more than maxSend, so that many carriage
    // returns complete it; any beyond are ignored (V.250: what comes before "AT" is no command).
    note(`sync: no answer; ${profile.maxSend} carriage returns to complete a send left waiting for its data`);
    await channel.writeRaw(Buffer.alloc(profile.maxSend, 0x0d));
    if (await tryRate(first)) return { baud: first, recoveredFromTransparent: false, tried };

    // Silence or only our own bytes coming back: perhaps a passthrough session left open.
    options.progress?.(`no answer at ${first} baud; trying to leave transparent mode`);
    channel.enterDataMode();
    try {
      await escapeDataMode(channel, profile, { note, ...(options.signal ? { signal: options.signal } : {}) });
      note(`sync: module was in transparent mode at ${first} baud; recovered`);
      return { baud: first, recoveredFromTransparent: true, tried };
    } catch (err) {
      if (!(err instanceof AtbridgeError) || err.code !== 'escape-failed') throw err;
      channel.leaveDataMode();
    }

    if (options.search && link.capabilities.baud) {
      const rates = [...new Set([...profile.data.serial.probeRates, ...COMMON_RATES])].filter((r) => r !== first);
      for (const baud of rates) {
        options.progress?.(`trying ${baud} baud`);
        if (await tryRate(baud)) return { baud, recoveredFromTransparent: false, tried };
      }
    }
    // Leave the port at the rate it started at, so a second scan starts where the first did.
    if (link.capabilities.baud && link.baud !== first) await link.setBaud(first).catch(() => undefined);
    throw noResponse(link.description, tried, options.search && link.capabilities.baud);
  } finally {
    link.off('data', onData);
  }
}

function noResponse(device: string, tried: RateEvidence[], searched: boolean): AtbridgeError {
  // Each rate once, in the order tried, with what was heard there in all (a rate is probed twice
  // when carriage returns were sent to complete a send left waiting).
  const heard = new Map<number, number>();
  for (const t of tried) heard.set(t.baud, (heard.get(t.baud) ?? 0) + t.bytesHeard);
  const noisy = [...heard.values()].some((n) => n > 0);
  const rates = [...heard].map(([baud, bytes]) => (bytes > 0 ? `${baud} (${bytes} unreadable bytes)` : `${baud}`)).join(', ');
  const auto = searched ? '' : 'try --baud auto; ';
  return new AtbridgeError('no-response', `no answer to AT on ${device} at ${rates} baud${noisy ? '' : '; heard nothing at all'}`, {
    exitCode: ExitCode.noResponse,
    fix: noisy
      ? `${auto}bytes arrive but never as OK: check the framing (8N1), the rate, and that TX/RX are not swapped; try \`atbridge doctor\``
      : `${auto}check power, wiring (TX↔RX, common ground) and that this is the AT port (\`atbridge ports\`)`,
  });
}

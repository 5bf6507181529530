import type { Duplex } from 'node:stream';
import { AtbridgeError, EndCode, ExitCode } from '../errors.js';
import { getProfile } from '../profile/index.js';
import { flightRecorder } from '../trace/flight-recorder.js';
import { TraceWriter } from '../trace/writer.js';
import { openDevice, type OpenedDevice } from '../transport/open-device.js';
import { TappedLink, type Tap } from '../transport/tap.js';
import { Modem, type ModemOptions } from './modem.js';
import type { ModemSession, ModemSessionOptions } from './session-types.js';

export type { ModemSession, ModemSessionOptions } from './session-types.js';

export interface OpenedModemSession extends ModemSession {
  readonly modem: Modem;
  readonly device: OpenedDevice;
  /** False once the link closed or close() ran: the owner drops it and opens a new session. */
  readonly alive: boolean;
}

/**
 * Opens the device, brings the module up (baud, sync, identify, init, attach or join)
 * and returns a session that opens TCP connections through it. Later faults are recovered
 * on the next connect().
 */
export async function openModemSession(
  options: ModemSessionOptions,
  extra: Partial<Pick<ModemOptions, 'registrationTimeoutMs' | 'registrationPollMs' | 'attempts' | 'backoff'>> & {
    /** Live observers of every byte and note (the demo's decoded view). */
    taps?: Tap[];
  } = {},
): Promise<OpenedModemSession> {
  const { taps, ...modemExtra } = extra;
  const profile = options.profile === undefined || options.profile === 'auto' ? undefined : getProfile(options.profile);
  const baud = options.baud ?? 'auto';
  const startBaud = typeof baud === 'number' ? baud : profile?.data.serial.defaultBaud ?? 115200;
  const device = await openDevice(options.device, { baud: startBaud });
  const link = new TappedLink(device.link);
  let trace: TraceWriter | undefined;
  if (options.trace) {
    trace = new TraceWriter(options.trace, {
      device: options.device,
      baud: startBaud,
      ...(profile ? { profile: profile.id } : {}),
      secrets: [options.wifiPassword, options.pin, ...(options.secrets ?? [])],
    });
    link.addTap(trace);
  }
  let recorder: TraceWriter | undefined;
  if (options.traceDir) {
    recorder = flightRecorder(options.traceDir, {
      device: options.device,
      baud: startBaud,
      ...(profile ? { profile: profile.id } : {}),
      secrets: [options.wifiPassword, options.pin, ...(options.secrets ?? [])],
    }).writer;
    link.addTap(recorder);
  }
  for (const tap of taps ?? []) link.addTap(tap);
  const modem = new Modem(link, {
    profile,
    baud,
    ...(options.setBaud !== undefined ? { setBaud: options.setBaud } : {}),
    ...(options.baudFallback ? { baudFallback: true } : {}),
    transparent: options.transparent ?? false,
    recvMode: options.recvMode ?? 'push',
    ...(options.apn !== undefined ? { apn: options.apn } : {}),
    ...(options.pin !== undefined ? { pin: options.pin } : {}),
    ...(options.wifiSsid !== undefined ? { wifiSsid: options.wifiSsid } : {}),
    ...(options.wifiPassword !== undefined ? { wifiPassword: options.wifiPassword } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onWait ? { onWait: options.onWait } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...modemExtra,
  });
  const shutdown = async () => {
    await modem.close().catch(() => undefined);
    await device.close().catch(() => undefined);
    await trace?.close();
    await recorder?.close();
  };
  try {
    await modem.ensureReady();
  } catch (err) {
    await shutdown();
    throw err;
  }
  let closed = false;
  return {
    modem,
    device,
    get alive() {
      return !closed && !modem.isClosed;
    },
    get profileId() {
      return modem.currentProfile?.id ?? 'unknown';
    },
    async connect(host: string, port: number): Promise<Duplex> {
      if (closed) throw new AtbridgeError(EndCode.modemClosed, 'the modem session is closed', { exitCode: ExitCode.failure });
      return modem.connect(host, port);
    },
    status: () => modem.status(),
    async close() {
      if (closed) return;
      closed = true;
      await shutdown();
    },
  };
}

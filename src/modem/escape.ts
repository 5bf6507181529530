import type { AtChannel } from '../at/channel.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { ModuleProfile } from '../profile/index.js';
import { probeAtTimes, sleep } from './probe.js';

export interface EscapeOptions {
  /** Note each rung for the trace. */
  note?: (text: string) => void;
  signal?: AbortSignal;
  probeTimeoutMs?: number;
}

/**
 * Leaves transparent (data) mode, climbing a ladder: '+++' framed by the profile's guard
 * times → AT → '+++' again → DTR drop where the port has the line → `escape-failed` with the
 * evidence. Resolves once the module answers AT in command mode.
 */
export async function escapeDataMode(channel: AtChannel, profile: ModuleProfile, options: EscapeOptions = {}): Promise<void> {
  const { escape } = profile.data;
  const note = options.note ?? (() => {});
  const probeMs = options.probeTimeoutMs ?? 500;
  const tried: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    note(`escape: '${escape.sequence}' attempt ${attempt} (guard ${escape.guardBeforeMs}/${escape.guardAfterMs} ms)`);
    await sendEscapeSequence(channel, profile, options.signal);
    channel.leaveDataMode();
    if (await probeAtTimes(channel, 2, probeMs, options.signal)) {
      note(`escape: module answered AT after '${escape.sequence}'`);
      return;
    }
    tried.push(`'${escape.sequence}' #${attempt}: no OK to AT`);
    channel.enterDataMode();
  }
  if (channel.link.capabilities.dtr) {
    note('escape: dropping DTR');
    await channel.link.setSignals({ dtr: false });
    await sleep(300, options.signal);
    await channel.link.setSignals({ dtr: true });
    await sleep(200, options.signal);
    channel.leaveDataMode();
    if (await probeAtTimes(channel, 2, probeMs, options.signal)) {
      note('escape: module answered AT after the DTR drop');
      return;
    }
    tried.push('DTR drop: no OK to AT');
  } else {
    tried.push(`DTR drop: not possible on ${channel.link.description}`);
  }
  channel.leaveDataMode();
  throw new AtbridgeError('escape-failed', `could not get ${profile.data.name} out of transparent mode (${tried.join('; ')})`, {
    exitCode: ExitCode.escapeFailed,
    fix: 'power-cycle the module; if it keeps starting in passthrough, clear the saved link (ESP-AT: AT+SAVETRANSLINK=0) once it answers',
  });
}

/** Silence, the sequence in one write (its bytes must not be spread out), silence. */
export async function sendEscapeSequence(channel: AtChannel, profile: ModuleProfile, signal?: AbortSignal): Promise<void> {
  const { escape } = profile.data;
  await sleep(escape.guardBeforeMs + 50, signal);
  await channel.writeRaw(Buffer.from(escape.sequence, 'latin1'));
  await sleep(escape.guardAfterMs + 50 + escape.settleAfterMs, signal);
}

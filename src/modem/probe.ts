import type { AtChannel } from '../at/channel.js';
import { AtError } from '../at/errors.js';

/** Sends `AT` and says whether a clean OK came back. Never throws for silence or garbage. */
export async function probeAt(channel: AtChannel, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  try {
    const res = await channel.send('AT', { timeoutMs, retryBusy: false, resyncAfterTimeout: false, ...(signal ? { signal } : {}) });
    return res.ok;
  } catch (err) {
    if (err instanceof AtError && (err.atCode === 'timeout' || err.atCode === 'module-busy' || err.atCode === 'garbled')) return false;
    throw err;
  }
}

/** A few AT probes; true at the first OK. */
export async function probeAtTimes(channel: AtChannel, times: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  for (let i = 0; i < times; i++) {
    signal?.throwIfAborted();
    if (await probeAt(channel, timeoutMs, signal)) return true;
  }
  return false;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

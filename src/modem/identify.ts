import type { AtChannel } from '../at/channel.js';
import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import { getProfile, listProfileIds, type ModuleProfile } from '../profile/index.js';

export interface Identity {
  profile: ModuleProfile;
  model: string | undefined;
  firmware: string | undefined;
  /** Every line the identification commands returned. */
  lines: string[];
}

/**
 * Asks the module who it is with each candidate profile's identification commands (ATI,
 * AT+GMR, AT+CGMR, AT+SIMCOMATI) and picks the first profile whose patterns match, with the
 * firmware's quirks applied.
 */
export async function identifyModule(channel: AtChannel, candidates: ModuleProfile[], signal?: AbortSignal): Promise<Identity> {
  const asked = new Map<string, string[]>();
  const allLines: string[] = [];
  for (const candidate of candidates) {
    const { identify } = candidate.data;
    const lines: string[] = [];
    for (const command of identify.commands) {
      let answer = asked.get(command);
      if (!answer) {
        answer = await ask(channel, command, signal);
        asked.set(command, answer);
        allLines.push(...answer);
      }
      lines.push(...answer);
      // One answer that names the family and the firmware is enough: every round trip counts.
      if (identify.detect.some((p) => lines.some((l) => new RegExp(p).test(l))) && firstGroup(identify.firmware, lines, 'firmware')) break;
    }
    const detected = identify.detect.some((p) => lines.some((l) => new RegExp(p).test(l)));
    if (!detected) continue;
    const model = firstGroup(identify.model, lines, 'model');
    const firmware = firstGroup(identify.firmware, lines, 'firmware');
    const profile = firmware !== undefined ? candidate.forFirmware(firmware) : candidate;
    return { profile, model, firmware, lines };
  }
  throw new AtbridgeError(
    'unknown-module',
    `the module answers AT but matches no profile (${candidates.map((c) => c.id).join(', ')}); it said: ${allLines.slice(0, 4).join(' | ') || 'nothing'}`,
    { exitCode: ExitCode.failure, fix: 'name the profile with --profile, or add one under firmware-profiles/ (see README)' },
  );
}

/** Profiles to try for `--profile auto`. */
export function autoCandidates(): ModuleProfile[] {
  return listProfileIds().map((id) => getProfile(id));
}

async function ask(channel: AtChannel, command: string, signal?: AbortSignal): Promise<string[]> {
  try {
    const res = await channel.send(command, { timeoutMs: 3000, ...(signal ? { signal } : {}) });
    return res.ok ? res.lines.map((l) => l.trim()) : [];
  } catch (err) {
    if (err instanceof AtError && err.atCode === 'timeout') return [];
    throw err;
  }
}

function firstGroup(patterns: readonly string[], lines: readonly string[], group: string): string | undefined {
  for (const p of patterns) {
    const re = new RegExp(p);
    for (const line of lines) {
      const value = re.exec(line)?.groups?.[group];
      if (value) return value.trim();
    }
  }
  return undefined;
}

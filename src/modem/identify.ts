import type { AtChannel } from '../at/channel.js';
import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import { getProfile, listProfileIds, type ModuleProfile } from '../profile/index.js';
import { GARBLED_RETRIES } from './context.js';
import { detectScore, DECISIVE_SCORE, firstGroup } from '../profile/identify-score.js';
import { maskIdentifiersInText } from '../trace/identifiers.js';

export interface Identity {
  profile: ModuleProfile;
  model: string | undefined;
  firmware: string | undefined;
  /** Every line the identification commands returned. */
  lines: string[];
}

/**
 * Asks the module who it is with the candidates' identification commands (ATI, AT+GMR, AT+CGMR,
 * AT+SIMCOMATI...), scores every candidate's `detect` against all answers and takes the best, with
 * the firmware's quirks applied. It stops asking once one answer is decisive (a model name only one
 * family prints) and names the firmware: every round trip counts.
 */
export async function identifyModule(channel: AtChannel, candidates: ModuleProfile[], signal?: AbortSignal): Promise<Identity> {
  const commands = [...new Set(candidates.flatMap((c) => c.data.identify.commands))];
  const lines: string[] = [];
  for (const command of commands) {
    lines.push(...(await ask(channel, command, signal)));
    const best = pick(candidates, lines);
    if (best && best.score >= DECISIVE_SCORE && firstGroup(best.profile.data.identify.firmware, lines, 'firmware')) break;
  }
  const best = pick(candidates, lines);
  if (!best) {
    throw new AtbridgeError(
      'unknown-module',
      `the module answers AT but matches no profile (${candidates.map((c) => c.id).join(', ')}); it said: ${maskIdentifiersInText(lines.slice(0, 4).join(' | ')) || 'nothing'}`,
      { exitCode: ExitCode.failure, fix: 'name the profile with --profile, or add one under firmware-profiles/ (see README)' },
    );
  }
  const { identify } = best.profile.data;
  const model = firstGroup(identify.model, lines, 'model');
  const firmware = firstGroup(identify.firmware, lines, 'firmware');
  const profile = firmware !== undefined ? best.profile.forFirmware(firmware) : best.profile;
  return { profile, model, firmware, lines };
}

/** The best-scoring candidate (ties: the first listed), or undefined when none scores. */
function pick(candidates: ModuleProfile[], lines: readonly string[]): { profile: ModuleProfile; score: number } | undefined {
  let best: { profile: ModuleProfile; score: number } | undefined;
  for (const profile of candidates) {
    const score = detectScore(profile.data.identify.detect, lines);
    if (score > 0 && (!best || score > best.score)) best = { profile, score };
  }
  return best;
}

/** Profiles to try for `--profile auto`. */
export function autoCandidates(): ModuleProfile[] {
  return listProfileIds().map((id) => getProfile(id));
}

async function ask(channel: AtChannel, command: string, signal?: AbortSignal): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await channel.send(command, { timeoutMs: 3000, ...(signal ? { signal } : {}) });
      return res.ok ? res.lines.map((l) => l.trim()) : [];
    } catch (err) {
      if (err instanceof AtError && err.atCode === 'timeout') return [];
      // Answered, but damaged on the way (a noisy line): ask again, then do without this answer.
      if (err instanceof AtError && err.atCode === 'garbled') {
        if (attempt < GARBLED_RETRIES) continue;
        return [];
      }
      throw err;
    }
  }
}

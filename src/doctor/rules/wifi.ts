import type { ClassifiedEvent } from '../classify-events.js';
import type { FindingId } from '../findings.js';
import type { Rule } from '../engine.js';
import { joinFindingId } from '../../modem/join.js';
import { isShippedUrc } from '../../profile/shipped.js';
import { wifiWords } from './profile-words.js';
import { finalOutcome, trimmed } from './text.js';


/** A join's first quoted argument: the SSID. */
const SSID = /^[^=]*="((?:[^"\\]|\\.)*)"/;

/**
 * Join results, station status and Wi-Fi drops. The join, status and leave commands and the
 * join-error URCs are the Wi-Fi profiles' (wifiJoin, wifiStatus, linkStatus roles; URC event
 * `wifi-join-error` and its table), see profile-words.ts.
 */
export function wifiRule(): Rule {
  const words = wifiWords();
  const failures: { id: FindingId; e: ClassifiedEvent; ssid: string | undefined; meaning?: string | undefined; fix?: string | undefined }[] = [];
  const drops: ClassifiedEvent[] = [];
  const status5: ClassifiedEvent[] = [];
  /** "No AP" while the module said it was on Wi-Fi (a firmware bug), and while it was not. */
  const noApJoined: ClassifiedEvent[] = [];
  const noApUnjoined: ClassifiedEvent[] = [];
  let joinedOnce = false;
  let joinedNow = false;
  let stationUp = false;
  let lastFailedJoinAt = -100;
  let lastJoinSsid: string | undefined;
  return {
    name: 'wifi',
    onEvent(e, c) {
      if (e.dir !== 'rx') return;
      const text = trimmed(e);
      if (isShippedUrc(text, ['wifi-connected', 'wifi-got-ip'])) joinedOnce = joinedNow = true;
      const status = words.linkStatus?.answer.exec(text)?.groups?.status;
      if (status === '5') status5.push(e);
      else if (status !== undefined && status !== '0' && status !== '1') stationUp = true;
      if (text === 'No AP') (joinedNow ? noApJoined : noApUnjoined).push(e);
      // A join's result arriving while another command is in flight: the host probed (AT) before
      // the join had finished, and the module answers the join late amid busy p... lines.
      const late = words.joinError(text);
      if (late && c.current && !words.join.test(c.current.command)) {
        failures.push({ id: joinFindingId(late.failure?.kind), e, ssid: lastJoinSsid, meaning: late.meaning, fix: late.failure?.fix });
        c.current.explained = true;
        lastFailedJoinAt = c.commands;
      }
      if (isShippedUrc(text, ['wifi-disconnected'])) {
        joinedNow = false;
        const duringJoin = c.current !== undefined && words.station.test(c.current.command);
        if (!duringJoin && !c.afterHostReset && c.commands - lastFailedJoinAt > 1) drops.push(e);
      }
    },
    onExchange(ex, c) {
      if (!words.join.test(ex.command)) return;
      const ssid = SSID.exec(ex.command)?.[1];
      lastJoinSsid = ssid;
      const coded = ex.replies.map((r) => ({ r, err: words.joinError(trimmed(r)) })).find((x) => x.err);
      if (coded) {
        failures.push({ id: joinFindingId(coded.err!.failure?.kind), e: coded.r, ssid, meaning: coded.err!.meaning, fix: coded.err!.failure?.fix });
        ex.explained = true;
        lastFailedJoinAt = c.commands;
      } else if (ex.final && finalOutcome(ex.final) === 'error') {
        failures.push({ id: 'wifi-join-failed', e: ex.final, ssid });
        ex.explained = true;
        lastFailedJoinAt = c.commands;
      }
    },
    finish(c) {
      for (const f of failures) {
        // The fix is the profile's for that code (joinFailures), else the finding's own.
        c.add(f.id, `joining Wi-Fi${f.ssid ? ` "${f.ssid}"` : ''} failed: ${trimmed(f.e)}${f.meaning ? ` (${f.meaning})` : ''}`, [f.e], f.fix ? { fix: f.fix } : {});
      }
      const statusCommand = status5[0]?.command ?? words.linkStatus?.send ?? 'the link-status query';
      if (status5.length >= 2 && !stationUp && !joinedOnce) {
        c.add('wifi-join-failed', `the station never got onto Wi-Fi: ${statusCommand} answered ${trimmed(status5[0]!)} (${c.explain('5', 'cipstatus') ?? 'not connected'}) ${status5.length} times`, status5.slice(0, 4));
      }
      if (drops.length > 0) c.add('wifi-disconnected', `the module dropped off Wi-Fi ${drops.length} time${drops.length > 1 ? 's' : ''} (${trimmed(drops[0]!)})`, drops.slice(0, 4));
      if (noApJoined.length > 0) {
        const query = noApJoined[0]!.command ?? words.wifiStatus ?? 'the station-status query';
        const status = words.linkStatus?.send ?? 'the link-status query';
        c.add('wifi-disconnected', `${query} answers "No AP" although the module reported WIFI CONNECTED (a firmware bug in some 2.x dev builds; use the URCs or ${status})`,
          noApJoined.slice(0, 4), { severity: 'info', fix: `nothing is wrong with the link: read the Wi-Fi state from WIFI CONNECTED / WIFI DISCONNECT or ${status} instead` });
      } else if (noApUnjoined.length > 0 && !joinedOnce) {
        // Asking before joining is how a host decides to join; only a station that never got on is a problem.
        c.add('wifi-disconnected', `${noApUnjoined[0]!.command ?? words.wifiStatus ?? 'the station-status query'} answers "No AP": the station is not on any Wi-Fi network`, noApUnjoined.slice(0, 4), { severity: 'warning' });
      }
    },
  };
}

import type { ClassifiedEvent } from '../classify-events.js';
import type { FindingId } from '../findings.js';
import type { Rule } from '../engine.js';
import { finalOutcome, trimmed } from './text.js';

const JOIN = /^AT\+CWJAP(?:_CUR|_DEF)?=/i;
const BY_CODE: Record<string, FindingId> = { '1': 'wifi-join-timeout', '2': 'wifi-wrong-password', '3': 'wifi-ap-not-found', '4': 'wifi-join-failed' };

/** AT+CWJAP results, station status and Wi-Fi drops. */
export function wifiRule(): Rule {
  const failures: { id: FindingId; e: ClassifiedEvent; ssid: string | undefined }[] = [];
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
      if (/^WIFI (?:CONNECTED|GOT IP)$/.test(text)) joinedOnce = joinedNow = true;
      const status = /^STATUS:(\d)$/.exec(text)?.[1];
      if (status === '5') status5.push(e);
      else if (status !== undefined && status !== '0' && status !== '1') stationUp = true;
      if (text === 'No AP') (joinedNow ? noApJoined : noApUnjoined).push(e);
      // A join's result arriving while another command is in flight: the host probed (AT) before
      // the join had finished, and the module answers the join late amid busy p... lines.
      const late = /^\+CWJAP:([1-4])$/.exec(text);
      if (late && c.current && !JOIN.test(c.current.command)) {
        failures.push({ id: BY_CODE[late[1]!]!, e, ssid: lastJoinSsid });
        c.current.explained = true;
        lastFailedJoinAt = c.commands;
      }
      if (text === 'WIFI DISCONNECT') {
        joinedNow = false;
        const duringJoin = c.current !== undefined && /^AT\+CW(?:JAP|QAP)/i.test(c.current.command);
        if (!duringJoin && !c.afterHostReset && c.commands - lastFailedJoinAt > 1) drops.push(e);
      }
    },
    onExchange(ex, c) {
      if (!JOIN.test(ex.command)) return;
      const ssid = /^AT\+CWJAP\w*="((?:[^"\\]|\\.)*)"/i.exec(ex.command)?.[1];
      lastJoinSsid = ssid;
      const coded = ex.replies.map((r) => /^\+CWJAP:([1-4])$/.exec(trimmed(r))).find((m) => m);
      if (coded) {
        failures.push({ id: BY_CODE[coded[1]!]!, e: ex.replies.find((r) => /^\+CWJAP:[1-4]$/.test(trimmed(r)))!, ssid });
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
        const meaning = c.explain(/\d/.exec(trimmed(f.e))?.[0], 'cwjap');
        c.add(f.id, `joining Wi-Fi${f.ssid ? ` "${f.ssid}"` : ''} failed: ${trimmed(f.e)}${meaning && /^\+CWJAP/.test(trimmed(f.e)) ? ` (${meaning})` : ''}`, [f.e]);
      }
      if (status5.length >= 2 && !stationUp && !joinedOnce) {
        c.add('wifi-join-failed', `the station never got onto Wi-Fi: AT+CIPSTATUS answered STATUS:5 (${c.explain('5', 'cipstatus') ?? 'not connected'}) ${status5.length} times`, status5.slice(0, 4));
      }
      if (drops.length > 0) c.add('wifi-disconnected', `the module dropped off Wi-Fi ${drops.length} time${drops.length > 1 ? 's' : ''} (WIFI DISCONNECT)`, drops.slice(0, 4));
      if (noApJoined.length > 0) {
        c.add('wifi-disconnected', 'AT+CWJAP? answers "No AP" although the module reported WIFI CONNECTED (a firmware bug in some 2.x dev builds; use the URCs or AT+CIPSTATUS)',
          noApJoined.slice(0, 4), { severity: 'info', fix: 'nothing is wrong with the link: read the Wi-Fi state from WIFI CONNECTED / WIFI DISCONNECT or AT+CIPSTATUS instead' });
      } else if (noApUnjoined.length > 0 && !joinedOnce) {
        // Asking before joining is how a host decides to join; only a station that never got on is a problem.
        c.add('wifi-disconnected', 'AT+CWJAP? answers "No AP": the station is not on any Wi-Fi network', noApUnjoined.slice(0, 4), { severity: 'warning' });
      }
    },
  };
}

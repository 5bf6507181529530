import type { ClassifiedEvent } from '../classify-events.js';
import { commandName } from '../../profile/index.js';
import type { Conversation as EngineConversation, Rule } from '../engine.js';
import { finalCode, finalOutcome, trimmed } from './text.js';
import { netOpenWords, resultCode } from './profile-words.js';

type SimProblem = 'missing' | 'pin' | 'busy' | 'failure' | 'unknown';

function simProblemOf(code: string): SimProblem | undefined {
  const c = code.toUpperCase();
  if (c === '10' || c === '310' || /NOT INSERTED|NO SIM/.test(c)) return 'missing';
  if (['11', '12', '17', '18'].includes(c) || /SIM PI?N|SIM PUK|PH-/.test(c)) return 'pin';
  if (c === '14' || /SIM BUSY|NOT READY/.test(c)) return 'busy';
  if (c === '13' || c === '15' || /SIM FAILURE|SIM WRONG/.test(c)) return 'failure';
  return undefined;
}

/** AT+CPIN? answers and +CPIN URCs: sim-missing, sim-pin-required, sim-not-ready, sim-failure. */
export function simRule(): Rule {
  const seen = new Map<SimProblem, ClassifiedEvent[]>();
  let readyAfter = false;
  const note = (p: SimProblem, e: ClassifiedEvent) => {
    readyAfter = false;
    const list = seen.get(p) ?? [];
    list.push(e);
    seen.set(p, list);
  };
  return {
    name: 'sim',
    onEvent(e) {
      if (e.dir !== 'rx') return;
      const m = /^\+CPIN: ?(.+)$/.exec(trimmed(e));
      if (m) {
        if (m[1]!.trim().toUpperCase() === 'READY') readyAfter = true;
        else note(simProblemOf(m[1]!) ?? 'unknown', e);
      }
    },
    onExchange(ex) {
      const code = finalCode(ex.final);
      const problem = code !== undefined ? simProblemOf(code) : undefined;
      if (problem) {
        note(problem, ex.final!);
        ex.explained = true;
      } else if (/^AT\+CPIN\?$/i.test(ex.command) && finalOutcome(ex.final) === 'error') {
        note('unknown', ex.final!);
        ex.explained = true;
      }
    },
    finish(c) {
      const later = readyAfter ? ' (it reported READY later)' : '';
      const sev = readyAfter ? 'warning' : 'error';
      // "Not inserted" (or busy) and then +CPIN: READY is the SIM being read after power-on (a
      // Quectel answers CME 10, then 14, then READY): the SIM is there.
      const missing = readyAfter ? undefined : seen.get('missing');
      if (missing) c.add('sim-missing', `the module says no SIM is inserted (${trimmed(missing[0]!)})${later}`, missing.slice(0, 4), { severity: sev });
      const failure = seen.get('failure');
      if (failure) c.add('sim-failure', `the SIM failed (${trimmed(failure[0]!)})${later}`, failure.slice(0, 4), { severity: sev });
      const pin = seen.get('pin');
      if (pin) c.add('sim-pin-required', `the SIM is locked (${trimmed(pin[0]!)})${later}`, pin.slice(0, 4), { severity: readyAfter ? 'info' : 'error' });
      const notReady = [...(seen.get('busy') ?? []), ...(missing || failure ? [] : seen.get('unknown') ?? [])];
      if (notReady.length > 0 && !readyAfter) {
        c.add('sim-not-ready', `the SIM was not ready (${trimmed(notReady[0]!)}) and never reported READY`, notReady.slice(0, 4), {
          fix: 'turn on verbose errors (AT+CMEE=2) to see why, wait for +CPIN: READY after power-on, reseat the SIM',
        });
      }
    },
  };
}

/** +CSQ: 99 (no signal) or very low: no-signal. */
export function signalRule(): Rule {
  const none: ClassifiedEvent[] = [];
  const weak: ClassifiedEvent[] = [];
  let good = false;
  let registered = false;
  let unregistered = false;
  let firstT: number | undefined;
  /** A +CSQ: 99 read a minute or more after the log began: the module had time to measure. */
  let lateNone = false;
  return {
    name: 'no-signal',
    onEvent(e) {
      if (e.t !== undefined) firstT ??= e.t;
      if (e.dir !== 'rx') return;
      const reg = /^\+C(?:E|G)?REG: ?(?:\d,)?(\d)(?:,|$)/.exec(trimmed(e));
      if (reg) {
        if (REGISTERED.has(reg[1]!)) registered = true;
        else unregistered = true;
      }
      const m = /^\+CSQ: ?(\d+),\d+$/.exec(trimmed(e));
      if (!m) return;
      const rssi = Number(m[1]);
      if (rssi === 99) {
        none.push(e);
        if (e.t !== undefined && firstT !== undefined && e.t - firstT >= LATE_MS) lateNone = true;
      }
      else if (rssi <= 5) weak.push(e);
      else good = true;
    },
    finish(c) {
      // One +CSQ: 99 alone is a module that has not measured yet (right after power-on, or an LTE-M
      // module between measurements); a fault is 99 again and again with nothing better, or 99 with
      // the module never registering.
      // …or 99 read long after power-on (a module measures within seconds of its radio coming on).
      const alone = none.length === 1 && (unregistered || lateNone) && !registered;
      if ((none.length >= 2 || alone) && !good) c.add('no-signal', `no signal: +CSQ: 99 (not detectable) ${none.length} time${none.length > 1 ? 's' : ''}`, none.slice(0, 4), { severity: weak.length > 0 ? 'warning' : 'error' });
      else if (weak.length > 0 && !good) c.add('no-signal', `very weak signal (${trimmed(weak[0]!)}, about ${-113 + 2 * Number(/\d+/.exec(trimmed(weak[0]!).slice(5))?.[0] ?? 0)} dBm)`, weak.slice(0, 4), { severity: 'warning' });
    },
  };
}

/** How long after the log's first line a +CSQ: 99 is no longer "not measured yet". */
const LATE_MS = 60_000;

/** 1 home, 5 roaming. 6 and 7 (TS 27.007: registered for SMS only, home / roaming) carry no data: not registered for a data session. */
const REGISTERED = new Set(['1', '5']);

/** +CREG/+CGREG/+CEREG answers and URCs: not-registered, registration-denied. */
export function registrationRule(): Rule {
  const byType = new Map<string, { registered: boolean; readings: ClassifiedEvent[]; stats: string[] }>();
  const denied: ClassifiedEvent[] = [];
  return {
    name: 'registration',
    onEvent(e, c) {
      if (e.dir !== 'rx') return;
      const m = /^\+(C|CG|CE)REG: ?(\d)(?:,(\d))?(?:,|$)/.exec(trimmed(e));
      if (!m) return;
      // `+CREG: 0,1` answers a query (n,stat); `+CREG: 1` is the URC (stat only).
      const stat = m[3] ?? m[2]!;
      const type = `+${m[1]}REG`;
      const entry = byType.get(type) ?? { registered: false, readings: [], stats: [] };
      entry.readings.push(e);
      entry.stats.push(stat);
      if (REGISTERED.has(stat)) entry.registered = true;
      if (stat === '3') denied.push(e);
      byType.set(type, entry);
      void c;
    },
    finish(c) {
      if (byType.size === 0) return;
      const registered = [...byType.entries()].filter(([, v]) => v.registered).map(([k]) => k);
      if (denied.length > 0) {
        c.add('registration-denied', `the network denied registration (${trimmed(denied[0]!)})${registered.length ? `, though ${registered.join('/')} registered` : ''}`,
          denied.slice(0, 4), { severity: registered.length ? 'warning' : 'error' });
      }
      const never = [...byType.entries()].filter(([, v]) => !v.registered && !v.stats.every((s) => s === '3'));
      if (never.length === 0) return;
      const evidence = never.flatMap(([, v]) => v.readings).sort((a, b) => a.index - b.index);
      const describe = never.map(([k, v]) => `${k} ${v.stats.at(-1)} (${c.explain(v.stats.at(-1), 'creg') ?? '?'})`).join(', ');
      // Registration is the best of the three domains (TS 27.007 §7.2 +CREG circuit-switched,
      // §10.1.20 +CGREG GPRS, §10.1.19 +CEREG EPS): an LTE-M/NB-IoT module registered on EPS
      // reports +CREG/+CGREG 0 or 4 by design, and is registered.
      if (registered.length > 0) return;
      const polls = evidence.length;
      c.add('not-registered', `never registered: ${describe}${polls > 1 ? ` on all ${polls} polls` : ''}`, evidence.slice(0, 6), { severity: polls >= 2 ? 'error' : 'warning' });
    },
  };
}

const DETACH = /^AT\+(?:CGATT=0|CGACT=0|CFUN=[04])\b/i;

/** The command in flight, or the one just answered, closes the data network (or the host reset the module). */
function hostClosing(c: EngineConversation): boolean {
  const netClose = c.profile.data.commands.netClose?.send;
  const closeName = netClose ? commandName(netClose) : undefined;
  return c.afterHostReset || [c.current, c.recent.at(-1)].some((ex) => ex !== undefined && (DETACH.test(ex.command) || (closeName !== undefined && ex.name === closeName)));
}

/**
 * A data network open that fails and a data network that drops: netopen-failed, network-closed.
 * The open/close commands and their numeric result URCs are the profiles' `netOpen`/`netClose`
 * roles (SIMCom's AT+NETOPEN → `+NETOPEN: <err>`), see profile-words.ts.
 */
export function networkRule(): Rule {
  const words = netOpenWords();
  const failed: ClassifiedEvent[] = [];
  const dropped: ClassifiedEvent[] = [];
  let inNetClose = false;
  return {
    name: 'network',
    onEvent(e, c) {
      inNetClose = c.current !== undefined && words.close.test(c.current.command);
      if (e.dir !== 'rx') return;
      const text = trimmed(e);
      const code = resultCode(words.openResult, text);
      // The open's result code answering the state query is the state (1 = open), not an error code.
      if (code !== undefined && code !== '0' && !words.stateQuery.test(e.command ?? '')) failed.push(e);
      // The data network closing because the host closed it (the profile's netClose command, a
      // 27.007 detach or deactivation, a reset) is the answer to that, not a drop.
      if (e.classified?.urc?.event === 'network-lost' && !hostClosing(c)) dropped.push(e);
      else if (resultCode(words.closeResult, text) !== undefined && !inNetClose && !words.close.test(c.recent.at(-1)?.command ?? '')) dropped.push(e);
    },
    onExchange(ex) {
      if (words.open.test(ex.command) && finalOutcome(ex.final) === 'error') {
        ex.explained = true;
        if (!ex.replies.some((r) => words.alreadyOpen.some((re) => re.test(trimmed(r))))) failed.push(ex.final!);
      }
      // Closing a network that was not open (a non-zero close result / ERROR) is the usual "clean start" idiom.
      if (words.close.test(ex.command)) ex.explained = true;
    },
    finish(c) {
      if (failed.length > 0) {
        const first = failed[0]!;
        const code = resultCode(words.openResult, trimmed(first));
        const meaning = code ? c.explain(code, words.table ?? '') : undefined;
        const what = (first.command && words.open.test(first.command) ? first.command : words.openFor(trimmed(first))) ?? 'opening the data network';
        c.add('netopen-failed', `${what} failed ${failed.length} time${failed.length > 1 ? 's' : ''} (${trimmed(first)}${meaning ? `: ${meaning}` : ', no cause given'})`, failed.slice(0, 4));
      }
      if (dropped.length > 0) c.add('network-closed', `the data network dropped (${trimmed(dropped[0]!)})`, dropped.slice(0, 4));
    },
  };
}

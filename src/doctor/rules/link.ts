import type { ClassifiedEvent } from '../classify-events.js';
import type { Exchange, Rule } from '../engine.js';
import { finalCode, finalOutcome, isBusyLine, isGarbage, trimmed } from './text.js';
import { sendRequestOf } from '../../decode/send-request.js';
import { isShippedUrc, shippedClosedLines } from '../../profile/shipped.js';

/**
 * Commands that got no byte back (or only their own echo: the module's UART loops the line back
 * but nothing answers): `no-response`, an error when the module never answered. A host library
 * saying so itself (`esp_modem_sync failed`, `Failed to connect to the modem!`, `Waiting SYNC`)
 * counts too when no answer follows it.
 */
/** The same command met by silence this many times in a row mid-log: the host retrying after its timeout. */
const RETRIES = 3;

export function noResponseRule(): Rule {
  let run: Exchange[] = [];
  let beforeFirstAnswer = 0;
  let firstRun: Exchange[] = [];
  /** The host's own "no answer" lines since the module's last final result. */
  let hostSays: ClassifiedEvent[] = [];
  /**
   * The host sending one command again and again, each met by silence, then the module answering
   * something else: the host gave up waiting each time (its timeout), so those got no answer. A
   * bare `AT` is left out: hosts send it until a sleeping or autobauding module wakes.
   */
  let retried: Exchange[] = [];
  /**
   * Commands the log itself says got nothing back, before any answer came: a script's print of the
   * empty reply (`AT+CMGF=1 back:` with nothing after it, `… no responce`), a person's note on the
   * command's line (`AT+CIPSEND=48 - hangs with no > data prompt`). With the note that says so.
   */
  const saidSilent: { ex: Exchange; note: ClassifiedEvent }[] = [];
  const retriedNow = (): Exchange[] => {
    let k = run.length;
    while (k > 0 && run[k - 1]!.command.toUpperCase() === run.at(-1)!.command.toUpperCase()) k--;
    return run.slice(k);
  };
  return {
    name: 'no-response',
    onEvent(e, c) {
      if (e.dir === 'note' && e.fields?.noAnswer === true) hostSays.push(e);
      else if (e.kind === 'final') hostSays = [];
      const ex = c.current;
      if (e.dir === 'note' && e.fields?.silent === true && ex && !saidSilent.some((s) => s.ex === ex) && ex.replies.every((r) => r.kind === 'echo')) saidSilent.push({ ex, note: e });
    },
    onExchange(ex, c) {
      if (ex.start.dir === 'note') return;
      if (ex.replies.every((r) => r.kind === 'echo' && r.text.trim().toUpperCase() === ex.command.toUpperCase())) {
        run.push(ex);
        return;
      }
      const same = run.length > 0 ? retriedNow() : [];
      if (same.length >= RETRIES && same.length > retried.length && !/^AT$/i.test(same[0]!.command) && c.commands - run.length > 1) retried = same;
      if (beforeFirstAnswer === 0 && run.length > 0 && firstRun.length === 0 && c.commands - run.length <= 1) {
        beforeFirstAnswer = run.length;
        firstRun = run;
      }
      run = [];
    },
    finish(c) {
      if (hostSays.length >= 2 && run.length < 2) {
        c.add('no-response', `the host program says the module did not answer (${hostSays.length} times: ${trimmed(hostSays[0]!)})${c.answeredAny ? '' : ' and no answer appears in the log'}`,
          [...hostSays.slice(0, 3), ...run.slice(0, 3).map((e) => e.start)], { severity: 'error' });
      // One command met by silence is not a silent module: a pasted excerpt often ends on the
      // command a person typed or quoted, and a host whose module is silent asks again. It counts
      // alone only when the module looped it back (its echo, then nothing).
      } else if (run.length >= 2 || (run.length === 1 && !c.answeredAny && run[0]!.replies.length > 0)) {
        const never = !c.answeredAny;
        c.add('no-response', `${run.length} command${run.length > 1 ? 's' : ''} got no answer at all${never ? ' (the module never answered)' : ` (last: ${run.at(-1)!.command})`}`,
          run.slice(0, 6).map((e) => e.start), { severity: never || run.length >= 3 ? 'error' : 'warning' });
      } else if (retried.length > 0) {
        c.add('no-response', `${retried[0]!.command} got no answer ${retried.length} times in a row (the host sent it again each time), then the module answered again`,
          retried.slice(0, 6).map((e) => e.start), { severity: 'warning' });
      } else if (saidSilent.some((s) => s.ex.replies.every((r) => r.kind === 'echo') || s.ex.replies[0]!.index > s.note.index)) {
        const said = saidSilent.filter((s) => s.ex.replies.every((r) => r.kind === 'echo') || s.ex.replies[0]!.index > s.note.index);
        const first = said[0]!;
        c.add('no-response', `${said.length} command${said.length > 1 ? 's' : ''} got nothing back, as the log itself says (${first.ex.command}: "${trimmed(first.note)}")`,
          said.slice(0, 6).flatMap((s) => [s.ex.start, s.note]), { severity: !c.answeredAny || said.length >= 3 ? 'error' : 'warning' });
      } else if (beforeFirstAnswer >= 3) {
        c.add('no-response', `the first ${beforeFirstAnswer} commands got no answer, then the module answered (it was still booting or asleep)`,
          firstRun.slice(0, 6).map((e) => e.start), { severity: 'info', fix: 'wait for the boot banner (RDY / ready) or retry AT until OK before the first real command' });
      }
    },
  };
}

/**
 * Unreadable bytes: `baud-mismatch` when nothing readable ever came back, `line-corruption` when
 * garbage interrupts an otherwise working conversation. Boot noise right after a reset is normal
 * (an ESP8266 prints its ROM text at 74880 baud).
 */
export function garbageRule(): Rule {
  const garbage: ClassifiedEvent[] = [];
  const corrupted: ClassifiedEvent[] = [];
  let lastBootAt = -100;
  let events = 0;
  let readable = 0;
  return {
    name: 'garbage',
    onEvent(e, c) {
      events++;
      if (e.dir !== 'rx') return;
      if (e.classified?.reboot || e.classified?.urc?.event === 'boot') lastBootAt = events;
      if (finalCode(e) === '100') corrupted.push(e);
      // The echo of the command in flight, garbled (a long line through a marginal link).
      if (c.current && e.kind !== 'echo' && garbledEcho(trimmed(e), c.current.command)) {
        garbage.push(e);
        return;
      }
      if (e.kind === 'data' || (!isGarbage(e.text) && !isCharRun(trimmed(e)))) {
        // A result, URC or answer line the profile knows: the rate is right, whatever else is garbled.
        if (e.kind === 'final' || e.kind === 'urc' || (e.kind === 'info' && /^\+[A-Z]+:/.test(trimmed(e)))) readable++;
        return;
      }
      if (c.afterHostReset || events - lastBootAt <= 3) {
        lastBootAt = events; // a burst of boot garbage continues the window
        return;
      }
      garbage.push(e);
    },
    finish(c) {
      if (garbage.length > 0 && !c.answeredAny && readable < 2) {
        c.add('baud-mismatch', `only unreadable bytes came from the module (${garbage.length} garbled line${garbage.length > 1 ? 's' : ''}, no OK at all)`, garbage.slice(0, 6));
      } else if (garbage.length > 0) {
        c.add('line-corruption', `${garbage.length} garbled line${garbage.length > 1 ? 's' : ''} in an otherwise readable conversation`, garbage.slice(0, 6));
      } else if (corrupted.length >= 2) {
        c.add('line-corruption', `+CME ERROR: 100 ${corrupted.length} times: commands arrive corrupted (marginal baud rate or wiring)`, corrupted.slice(0, 6));
      }
    },
  };
}

const BOOT_START = /^(?:RDY|\*ATREADY: 1|ready)$|rst cause:\d|^\[Vendor:/;
/** An ESP module's firmware crashing (ESP-IDF panic output): on an ESP-AT log, the module itself restarted. */
const ESP_PANIC = /^Guru Meditation Error|^abort\(\) was called|^Rebooting\.\.\.$|^rst:0x[0-9a-f]+ \(/;
const BOOT_FAILED = /MEM CHECK FAIL|(?:^|\s)invalid$/;

/** A banner or ROM text the host did not ask for: `module-rebooted`. */
export function rebootRule(): Rule {
  let bootAtCommand = -100;
  let powerOnSeen = false;
  const reboots: ClassifiedEvent[] = [];
  const broken: ClassifiedEvent[] = [];
  return {
    name: 'module-rebooted',
    onEvent(e, c) {
      if (e.dir !== 'rx') return;
      const text = trimmed(e);
      if (BOOT_FAILED.test(text)) broken.push(e);
      const panic = c.profile.family === 'wifi' && ESP_PANIC.test(text);
      // A boot-class URC that is not a banner line (+CFUN: 1 reports the radio's level: also when
      // it switches on after power-on while the host already talks) is no restart by itself.
      const bootUrc = e.classified?.urc?.event === 'boot' && (e.classified.reboot === true || BOOT_START.test(text));
      const marker = panic || e.classified?.reboot || bootUrc || e.classified?.urc?.event === 'init-done';
      if (!marker) return;
      const start = panic || BOOT_START.test(text);
      if (!c.answeredAny || c.afterHostReset || c.bannerExpected) {
        c.hostRestartAtCommand = -100; // that banner came
        powerOnSeen = true;
        bootAtCommand = c.commands;
        return;
      }
      // SMS DONE / PB DONE within a few commands of a banner are the same boot finishing.
      if (!start && c.commands - bootAtCommand <= 8) return;
      if (start || !powerOnSeen || c.commands - bootAtCommand > 8) {
        reboots.push(e);
        bootAtCommand = c.commands;
      }
    },
    finish(c) {
      if (broken.length > 0) {
        c.add('module-rebooted', 'the module\'s firmware did not start (boot says MEM CHECK FAIL / invalid)', broken.slice(0, 4), {
          severity: 'error',
          fix: 'reflash the AT firmware with the flash size and layout that match this module (esptool: --flash_size), then restore its factory settings',
        });
      }
      if (reboots.length > 0) {
        c.add('module-rebooted', `the module restarted on its own ${reboots.length} time${reboots.length > 1 ? 's' : ''} mid-session (${trimmed(reboots[0]!)}); its sockets and settings were lost`, reboots.slice(0, 6));
      }
    },
  };
}

/** `busy p...` and friends: `module-busy`. */
export function busyRule(): Rule {
  const busy: ClassifiedEvent[] = [];
  let unfinished = false;
  return {
    name: 'module-busy',
    onEvent(e) {
      if (isBusyLine(e)) busy.push(e);
    },
    onExchange(ex) {
      if (ex.replies.some(isBusyLine) && finalOutcome(ex.final) !== 'ok') unfinished = true;
    },
    finish(c) {
      if (busy.length === 0) return;
      const during = [...new Set(busy.map((b) => b.command).filter((x): x is string => x !== undefined))].slice(0, 3);
      c.add('module-busy', `the module answered "${trimmed(busy[0]!).replace(/^>\s*/, '')}" ${busy.length} time${busy.length > 1 ? 's' : ''}${during.length ? ` (during ${during.join(', ')})` : ''}`,
        busy.slice(0, 6), { severity: busy.length >= 3 || unfinished ? 'warning' : 'info' });
    },
  };
}

/** Echo still on after ATE0 answered OK: the host's parser will see its own commands. */
export function echoRule(): Rule {
  let echoOffAt = -1;
  const stray: ClassifiedEvent[] = [];
  return {
    name: 'echo-mismatch',
    onExchange(ex, c) {
      if (/^ATE0$/i.test(ex.command) && finalOutcome(ex.final) === 'ok') echoOffAt = c.commands;
      else if (/^ATE1$/i.test(ex.command)) echoOffAt = -1;
      else if (echoOffAt >= 0 && ex.start.dir === 'tx' && !c.afterHostReset) {
        const echo = ex.replies.find((r) => r.kind === 'echo' && trimmed(r).toUpperCase() === ex.command.toUpperCase());
        if (echo) stray.push(echo);
      }
      if (c.afterHostReset) echoOffAt = -1;
    },
    finish(c) {
      if (stray.length >= 2) c.add('echo-mismatch', `the module still echoes commands after ATE0 answered OK (${stray.length} echoes)`, stray.slice(0, 6));
    },
  };
}

/**
 * Transparent (passthrough) mode: commands sent while the module is in data mode are never
 * answered (`stuck-transparent`); an escape that brings no OK is `escape-failed`.
 */
export function transparentRule(): Rule {
  let transparent = false;
  let enteredBy: ClassifiedEvent | undefined;
  const swallowed: ClassifiedEvent[] = [];
  let escape: ClassifiedEvent | undefined;
  const failedEscapes: ClassifiedEvent[] = [];
  /** Commands met by silence, in a row: the module may be in passthrough without the log showing how. */
  let silent: ClassifiedEvent[] = [];
  /** A "+++" that brought an answer after such silence: the evidence of a module left in passthrough. */
  let recovered: ClassifiedEvent[] = [];
  return {
    name: 'transparent',
    onEvent(e, c) {
      const text = trimmed(e);
      if (e.dir === 'tx' && e.kind === 'data' && text === '+++') {
        escape = e;
        return;
      }
      if (e.dir !== 'rx') return;
      const cellularConnect = c.profile.family === 'cellular' && /^CONNECT(?: \d+)?$/.test(text);
      if (cellularConnect || /^CONNECT \d+$/.test(text)) {
        transparent = true;
        enteredBy = e;
      } else if (e.kind === 'prompt' && sendRequestOf(c.current?.command ?? c.recent.at(-1)?.command ?? '')?.passthrough) {
        // ESP-AT's bare AT+CIPSEND answers OK, then '>': the exchange may be closed by then.
        transparent = true;
        enteredBy = e;
      } else if (shippedClosedLines().has(text) || isShippedUrc(text, ['transparent-quit']) || e.classified?.reboot) {
        transparent = false;
      }
      if (e.kind === 'final' && escape) {
        if (silent.length > 0 && recovered.length === 0) recovered = [...silent.slice(-3), escape];
        escape = undefined;
        transparent = false;
      }
    },
    onExchange(ex) {
      if (ex.start.dir === 'tx' && ex.replies.length === 0) {
        // Only a command sent after the "+++" tells whether it worked (the silence before it is why it was sent).
        if (escape && ex.start.index > escape.index) {
          failedEscapes.push(escape);
          escape = undefined;
        } else if (transparent) {
          swallowed.push(ex.start);
        } else if (!escape || ex.start.index < escape.index) {
          silent.push(ex.start);
        }
      } else if (ex.final) {
        transparent = false;
        silent = [];
      }
    },
    finish(c) {
      if (failedEscapes.length > 0) c.add('escape-failed', `"+++" did not bring the module back to command mode (${failedEscapes.length} tr${failedEscapes.length > 1 ? 'ies' : 'y'})`, failedEscapes.slice(0, 4));
      if (recovered.length > 0 && swallowed.length < 2) {
        c.add('stuck-transparent', `the module answered nothing until "+++" (${recovered.length - 1} command${recovered.length > 2 ? 's' : ''} unanswered before it): it had been left in transparent mode`, recovered);
      }
      if (swallowed.length >= 2) {
        c.add('stuck-transparent', `${swallowed.length} commands went unanswered after the module entered transparent mode${enteredBy ? ` (${trimmed(enteredBy)})` : ''}: it was still passing bytes to the socket`,
          [...(enteredBy ? [enteredBy] : []), ...swallowed.slice(0, 5)]);
      }
    },
  };
}

/**
 * A run of one letter or '+' ten times or more (`++++++++++`, `eeeeeeeeee`, glued before an
 * echo or not): a stuck or glitching line. No module prints that ('+++' is three; separators a
 * host prints are dashes, '=' or '*').
 */
export function isCharRun(text: string): boolean {
  return /^([A-Za-z+])\1{9,}/.test(text);
}

/**
 * A line that is almost the command just sent but not quite: the same start, about the same length,
 * a few characters changed, lost or doubled (`AT+CWJAP_DEF="ssid","pa$sw0rd"` back for `…"passw0rd"`).
 */
export function garbledEcho(line: string, command: string): boolean {
  if (command.length < 12 || line === command || !/^AT/i.test(line) || line.toUpperCase() === command.toUpperCase()) return false;
  if (Math.abs(line.length - command.length) > Math.max(3, command.length * 0.15)) return false;
  let prefix = 0;
  while (prefix < line.length && line[prefix]!.toUpperCase() === command[prefix]!.toUpperCase()) prefix++;
  let suffix = 0;
  while (suffix < line.length - prefix && line[line.length - 1 - suffix] === command[command.length - 1 - suffix]) suffix++;
  const changed = line.length - prefix - suffix;
  return prefix >= 6 && changed > 0 && changed <= Math.max(4, command.length * 0.2) && prefix + suffix >= command.length * 0.6;
}

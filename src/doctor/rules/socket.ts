import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROFILE_DIR } from '../../profile/index.js';
import type { ClassifiedEvent } from '../classify-events.js';
import { socketResultMeaning } from './services.js';
import type { Rule } from '../engine.js';
import { finalOutcome, isBusyLine, trimmed } from './text.js';

/** Each family's socket commands and URCs: data in firmware-profiles/services/native-services.json. */
const SOCKETS = z.object({
  open: z.array(z.string()), send: z.array(z.string()), close: z.array(z.string()), openResult: z.array(z.string()), peerClosed: z.array(z.string()),
  openRefused: z.array(z.string()),
  closeResult: z.array(z.string()), sendConfirm: z.array(z.string()), hostClosed: z.array(z.string()), profileTables: z.record(z.string(), z.string()),
}).parse((JSON.parse(readFileSync(join(PROFILE_DIR, 'services', 'native-services.json'), 'utf8')) as { sockets: unknown }).sockets);
const anyOf = (list: string[], flags = 'i') => new RegExp(list.map((p) => `(?:${p})`).join('|'), flags);
const OPEN = anyOf(SOCKETS.open);
const CLOSE = anyOf(SOCKETS.close);
const SEND = anyOf(SOCKETS.send);
const OPEN_RESULT = SOCKETS.openResult.map((p) => new RegExp(p));
const PEER_CLOSED = anyOf(SOCKETS.peerClosed, '');
const OPEN_REFUSED = anyOf(SOCKETS.openRefused, '');
const CLOSE_RESULT = SOCKETS.closeResult.map((p) => new RegExp(p));
/** A send confirmation naming the bytes requested and the bytes taken (group 1, group 2). */
const SEND_CONFIRM = SOCKETS.sendConfirm.map((p) => new RegExp(p));
/** A close URC whose reason says the host closed it itself. */
const HOST_CLOSED = anyOf(SOCKETS.hostClosed, '');
/** Result URCs whose code the profile's own table explains. */
const PROFILE_TABLES = Object.entries(SOCKETS.profileTables).map(([p, table]) => ({ re: new RegExp(p), table }));
const firstMatch = (list: RegExp[], text: string) => list.map((re) => re.exec(text)).find((m) => m !== null);

/** Socket open/close/send failures and a peer that hangs up: socket-open-failed, socket-close-failed, peer-closed, send-failed. */
export function socketRule(): Rule {
  const openFailed: ClassifiedEvent[] = [];
  const closeFailed: ClassifiedEvent[] = [];
  const peerClosed: ClassifiedEvent[] = [];
  const sendFailed: ClassifiedEvent[] = [];
  const rejected: { e: ClassifiedEvent; meaning: string }[] = [];
  let sendOkSeen = false;
  /** `commands` when a close is expected (the host closed, or an open just failed). */
  let expectCloseAt = -100;
  let saidGoodbye = false;
  /** A module ERROR that answers no command in the log (the host sent one it does not print), and when. */
  let unseenError: { e: ClassifiedEvent; at: number } | undefined;
  /** Such an ERROR, and the host's words that it was a send. */
  const saidFailed = new Map<ClassifiedEvent, string>();
  let events = 0;
  return {
    name: 'socket',
    onEvent(e, c) {
      events++;
      // The host program's own verdict that a send or publish failed, right after an ERROR whose
      // command the log does not show (Adafruit FONA's MQTT functions send the link's send command
      // unprinted and print only the reply): that ERROR refused the send.
      if (unseenError && events - unseenError.at <= 3 && (e.dir === 'note' || e.kind === 'noise' || e.kind === 'info') && saysSendFailed(trimmed(e))) {
        sendFailed.push(unseenError.e);
        saidFailed.set(unseenError.e, trimmed(e));
        unseenError = undefined;
      }
      if (e.dir === 'rx' && e.kind === 'final' && !c.current && finalOutcome(e) === 'error') unseenError = { e, at: events };
      // After our MQTT DISCONNECT the broker closes the connection: that close is the goodbye, not a fault.
      if (e.dir === 'tx' && e.mqtt && e.mqtt.length > 0) saidGoodbye = e.mqtt.at(-1)!.type === 'DISCONNECT';
      if (e.dir !== 'rx') return;
      const text = trimmed(e);
      const urc = e.classified?.urc;
      if (/^(?:\d+,)?SEND OK$/.test(text)) sendOkSeen = true;
      // `+CIPERROR: n` answers the command in flight: an open's failure during an open, else a send's.
      if (/^\+CIPERROR: ?\d+$/.test(text) && c.current && OPEN.test(c.current.command)) {
        openFailed.push(e);
        expectCloseAt = c.commands;
      } else if (/^(?:\d+,)?SEND FAIL$|^SEND Canceled$|^\+CIPERROR: ?\d+$/.test(text)) sendFailed.push(e);
      const confirm = firstMatch(SEND_CONFIRM, text);
      if (confirm && confirm[1] !== confirm[2]) sendFailed.push(e);
      const opened = firstMatch(OPEN_RESULT, text);
      if (opened && opened[1] !== '0') {
        // A code that says the command was wrong (Quectel 552 invalid parameters) is a rejected command.
        const known = socketResultMeaning(text);
        if (known?.kind === 'rejected') rejected.push({ e, meaning: known.meaning });
        else openFailed.push(e);
        expectCloseAt = c.commands;
      }
      const closedCode = firstMatch(CLOSE_RESULT, text);
      if (closedCode && closedCode[1] !== '0') closeFailed.push(e);
      const remoteClose = (urc?.event === 'socket-closed' && !HOST_CLOSED.test(text)) || PEER_CLOSED.test(text);
      const hostClosing = (c.current && CLOSE.test(c.current.command)) || c.commands - expectCloseAt <= 0;
      if (remoteClose && !hostClosing && !c.afterHostReset && !saidGoodbye) peerClosed.push(e);
      if (remoteClose) saidGoodbye = false;
      // SIM800 writes `0, CONNECT FAIL` (a space after the comma), ESP-AT `0,CONNECT FAIL`.
      if (/^(?:\d+, ?)?CONNECT FAIL$|^DNS Fail$/.test(text)) {
        openFailed.push(e);
        expectCloseAt = c.commands;
      }
    },
    onExchange(ex, c) {
      // Our own close, or a new connection: a goodbye said before does not cover what follows.
      if (CLOSE.test(ex.command) || OPEN.test(ex.command)) saidGoodbye = false;
      if (CLOSE.test(ex.command)) {
        expectCloseAt = c.commands;
        if (finalOutcome(ex.final) === 'error') {
          ex.explained = true;
          if (!closeFailed.some((x) => ex.replies.includes(x))) closeFailed.push(ex.final!);
        }
        return;
      }
      if (OPEN.test(ex.command) && finalOutcome(ex.final) === 'error') {
        ex.explained = true;
        expectCloseAt = c.commands;
        if (ex.replies.some((r) => /ALREADY CONNECT/i.test(r.text))) return;
        // The firmware refusing the open's own arguments (a link type it does not offer): rejected.
        const refused = ex.replies.find((r) => OPEN_REFUSED.test(trimmed(r)));
        if (refused) {
          rejected.push({ e: refused, meaning: 'the firmware refused the command\'s arguments (link type, address or link id)' });
          return;
        }
        if (!openFailed.some((x) => ex.replies.includes(x))) openFailed.push(ex.final!);
        return;
      }
      if (SEND.test(ex.command)) {
        const busy = ex.replies.find(isBusyLine);
        // Busy and no final is a send still under way when the excerpt moves on; it failed when
        // an error ended it or the host gave up on it (its own TIMEOUT print).
        const gaveUp = ex.replies.some((r) => /^\W*time ?out\b/i.test(trimmed(r)));
        if (finalOutcome(ex.final) === 'error' || (busy && (gaveUp || (ex.final !== undefined && finalOutcome(ex.final) !== 'ok')))) {
          ex.explained = true;
          sendFailed.push(ex.final ?? busy!);
        }
      }
    },
    finish(c) {
      if (rejected.length > 0) {
        const first = rejected[0]!;
        c.add('command-rejected', `${first.e.command ?? 'the open'} was rejected (${trimmed(first.e)}: ${first.meaning})`, rejected.slice(0, 4).map((r) => r.e), { severity: rejected.length >= 2 ? 'error' : 'warning' });
      }
      if (openFailed.length > 0) {
        const meaning = profileMeaning(c, trimmed(openFailed[0]!)) ?? socketResultMeaning(trimmed(openFailed[0]!))?.meaning;
        const cmd = openFailed[0]!.command;
        c.add('socket-open-failed', `opening the connection failed ${openFailed.length > 1 ? `${openFailed.length} times ` : ''}(${cmd ? `${cmd} → ` : ''}${trimmed(openFailed[0]!)}${meaning ? `: ${meaning}` : ''})`, openFailed.slice(0, 4));
      }
      if (closeFailed.length > 0) {
        const meaning = profileMeaning(c, trimmed(closeFailed[0]!));
        c.add('socket-close-failed', `closing a link failed (${trimmed(closeFailed[0]!)}${meaning ? `: ${meaning}` : ''}); usually the link was not open`, closeFailed.slice(0, 4));
      }
      if (peerClosed.length > 0) c.add('peer-closed', `the connection was closed by the other side ${peerClosed.length} time${peerClosed.length > 1 ? 's' : ''} (${trimmed(peerClosed[0]!)})`, peerClosed.slice(0, 4));
      if (sendFailed.length > 0) {
        const mixed = sendOkSeen && sendFailed.every((e) => /SEND FAIL/.test(e.text));
        c.add('send-failed', mixed
          ? `the module reported SEND FAIL ${sendFailed.length} time${sendFailed.length > 1 ? 's' : ''} next to SEND OK for the same data: the outcome of that send is unknown`
          : `a send failed ${sendFailed.length} time${sendFailed.length > 1 ? 's' : ''} (${trimmed(sendFailed[0]!)}${saidFailed.has(sendFailed[0]!) ? ` to a command the log does not show; the host printed "${saidFailed.get(sendFailed[0]!)}"` : ''})`,
        sendFailed.slice(0, 4), { severity: mixed ? 'warning' : 'error' });
      }
    },
  };
}

/**
 * A host program's print that its send or publish failed: `Failed to publish data!`, `publish failed`,
 * `Send failed`, `could not send`. Short; a sentence about it is a person's words.
 */
const SEND_FAILED_SAID = /^[\W_]*(?:\[[^\]]*\]\s*:?\s*)*(?:fail(?:ed|ure)? (?:to )?(?:publish|send)\w*|(?:publish|send)(?:ing)?\b.{0,30}\b(?:failed|error)|(?:could not|couldn't|cannot|can't|unable to) (?:publish|send))\b.{0,40}$/i;

export function saysSendFailed(text: string): boolean {
  return text.length <= 80 && SEND_FAILED_SAID.test(text.trim());
}

/** The meaning of a result URC's code in the profile's own table (SIMCom +CIPOPEN: 0,4 → "network failure"). */
function profileMeaning(c: { explain(code: string | undefined, table: string): string | undefined }, text: string): string | undefined {
  for (const { re, table } of PROFILE_TABLES) {
    const code = re.exec(text)?.[1];
    if (code !== undefined) return c.explain(code, table);
  }
  return undefined;
}

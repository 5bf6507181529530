import { maskIdentifiersInText } from '../trace/identifiers.js';

/**
 * What the doctor reports. Ids are stable: scripts and tests rely on them (README lists them).
 * Live checks and log rules produce the same Finding values.
 */
export type Severity = 'error' | 'warning' | 'info';

/** Every finding id the doctor can report. */
export const FINDING_IDS = [
  'port-missing', 'port-permission', 'port-busy', 'modemmanager-holds-port', 'wrong-port',
  'no-response', 'baud-mismatch', 'line-corruption', 'stuck-transparent', 'escape-failed',
  'echo-mismatch', 'module-rebooted', 'module-busy', 'command-rejected',
  'sim-missing', 'sim-pin-required', 'sim-not-ready', 'sim-failure',
  'no-signal', 'not-registered', 'registration-denied', 'netopen-failed', 'network-closed',
  'wifi-join-timeout', 'wifi-wrong-password', 'wifi-ap-not-found', 'wifi-join-failed', 'wifi-disconnected',
  'socket-open-failed', 'socket-close-failed', 'peer-closed', 'send-failed',
  'mqtt-connect-refused', 'client-id-conflict', 'keepalive-timeout', 'mqtt-service-failed',
  'http-service-failed', 'urc-interleaved',
] as const;

/** The stable ids of findings (see README, Diagnose). */
export type FindingId = (typeof FINDING_IDS)[number];

/** A line of the capture that backs a finding. */
export interface Evidence {
  /** Index of the trace event (0-based, in the order read). */
  index: number;
  /** Line number in the original file, when known. */
  line?: number;
  dir: 'tx' | 'rx' | 'note';
  /** The original text (control characters escaped). */
  text: string;
}

/** One diagnosis: a stable id, severity, a summary, the evidence lines and a fix. */
export interface Finding {
  id: FindingId;
  severity: Severity;
  summary: string;
  evidence: Evidence[];
  fix: string;
}

/** The fix a person should try first, per id, when a rule has nothing more specific to say. */
export const DEFAULT_FIX: Record<FindingId, string> = {
  'port-missing': 'check the cable and the device name; `atbridge ports` lists the serial ports this machine has',
  'port-permission': 'add your user to the dialout group (`sudo usermod -aG dialout $USER`) and log in again',
  'port-busy': 'close the other program holding the port (a terminal such as picocom/minicom, or another atbridge)',
  'modemmanager-holds-port':
    'stop ModemManager probing the port: add a udev rule with ENV{ID_MM_DEVICE_IGNORE}="1" (see contrib/99-atbridge-modem.rules), ' +
    'then `sudo udevadm control --reload && sudo udevadm trigger`, or `sudo systemctl stop ModemManager`',
  'wrong-port': 'use the AT interface of the modem (`atbridge ports` names it)',
  'no-response': 'check power, wiring (TX↔RX crossed, common ground) and that this is the AT port (`atbridge ports`)',
  'baud-mismatch': 'set the host to the module\'s rate (try --baud auto), check 8N1 framing and the ground wire',
  'line-corruption': 'shorten or shield the wires, check the ground and the supply; lower the baud rate if it persists (the bridge: --baud-fallback); MQTT has no checksum, so carry it in TLS (mqtts://): damage then breaks the record and the message is resent',
  'stuck-transparent':
    'a program left the module in transparent (passthrough) mode: send "+++" with a second of silence around it before exiting; ' +
    'ESP-AT: clear a saved passthrough link with AT+SAVETRANSLINK=0',
  'escape-failed': 'power-cycle the module; if it starts in passthrough every time, clear the saved link (ESP-AT: AT+SAVETRANSLINK=0)',
  'echo-mismatch': 'send commands ending in the profile\'s line ending (CR for SIM7600, CR LF for ESP-AT) and turn echo off with ATE0 once',
  'module-rebooted': 'check the supply (cellular modules draw 2 A peaks; ESP modules brown out on weak 3.3 V regulators) and the reset/PWRKEY lines',
  'module-busy': 'wait for each command\'s final result before sending the next; a long join or connect keeps the module busy',
  'command-rejected': 'check the command\'s syntax and that this firmware supports it (AT+GMR / ATI show the version)',
  'sim-missing': 'insert the SIM (contacts down, fully seated) and power-cycle; check the holder\'s solder joints',
  'sim-pin-required': 'pass the PIN with --pin (or ATBRIDGE_SIM_PIN), or remove the PIN lock in a phone',
  'sim-not-ready': 'wait for +CPIN: READY after power-on before using the SIM; reseat it if it never comes',
  'sim-failure': 'reseat or replace the SIM; check the SIM holder and its supply voltage',
  'no-signal': 'connect the antenna (main port), check coverage and bands for this module variant',
  'not-registered': 'check the antenna, coverage, that the SIM plan is active and that the network mode (AT+CNMP) matches the network',
  'registration-denied': 'the network refused the SIM: check the plan is active and allowed on this network/RAT (IoT SIMs often need LTE-M/NB-IoT)',
  'netopen-failed': 'check the APN (AT+CGDCONT=1,"IP","apn"), that the plan has data, and that PDP context 1 is the one used; close the data network first (an earlier run may have left it half open)',
  'network-closed': 'the data network dropped: close every socket, close the data network, then open it again; check signal and data plan',
  'wifi-join-timeout': 'move closer to the AP, check it accepts new clients (MAC filter, client limit) and is 2.4 GHz',
  'wifi-wrong-password': 'check the Wi-Fi password (WPA2 passwords are case-sensitive, 8–63 characters)',
  'wifi-ap-not-found': 'check the SSID spelling and that the AP is 2.4 GHz and in range',
  'wifi-join-failed': 'check SSID, password and that the AP accepts the module (2.4 GHz, WPA2, no captive portal)',
  'wifi-disconnected': 'the module dropped off Wi-Fi: check signal strength and the module\'s supply; the host must rejoin',
  'socket-open-failed': 'check the host and port are reachable from the module\'s network, the DNS name resolves, and the parameters are right',
  'socket-close-failed': 'the link was not open (or is already closed): query the link state before closing',
  'peer-closed': 'the server closed the connection: check the server log (protocol error, idle timeout, refused topic)',
  'send-failed': 'wait for the prompt and each send result before the next send; reopen the link after a failure',
  'mqtt-connect-refused': 'check the MQTT username, password and client id the broker expects (and TLS settings)',
  'client-id-conflict': 'another client uses the same client id: give each client its own id',
  'keepalive-timeout': 'the broker stopped answering PINGREQ: check the link, and use a keepalive shorter than any NAT/idle timeout',
  'mqtt-service-failed': 'check the APN and that the data context is up (AT+CGACT?), that the broker is reachable from the mobile network, then stop and start the module\'s MQTT service again',
  'http-service-failed': 'the module\'s own HTTP client failed (a module status, not the server\'s): check the data context, DNS, and for HTTPS the TLS version, SNI and CA certificate the server needs',
  'urc-interleaved': 'an unsolicited line arrived in the middle of a command\'s answer: the host\'s parser must accept URCs anywhere, not only between commands',
};

export const DEFAULT_SEVERITY: Record<FindingId, Severity> = {
  'port-missing': 'error', 'port-permission': 'error', 'port-busy': 'error', 'modemmanager-holds-port': 'error', 'wrong-port': 'error',
  'no-response': 'error', 'baud-mismatch': 'error', 'line-corruption': 'warning', 'stuck-transparent': 'error', 'escape-failed': 'error',
  'echo-mismatch': 'warning', 'module-rebooted': 'warning', 'module-busy': 'warning', 'command-rejected': 'error',
  'sim-missing': 'error', 'sim-pin-required': 'error', 'sim-not-ready': 'error', 'sim-failure': 'error',
  'no-signal': 'error', 'not-registered': 'error', 'registration-denied': 'error', 'netopen-failed': 'error', 'network-closed': 'error',
  'wifi-join-timeout': 'error', 'wifi-wrong-password': 'error', 'wifi-ap-not-found': 'error', 'wifi-join-failed': 'error', 'wifi-disconnected': 'warning',
  'socket-open-failed': 'error', 'socket-close-failed': 'warning', 'peer-closed': 'warning', 'send-failed': 'error',
  'mqtt-connect-refused': 'error', 'client-id-conflict': 'error', 'keepalive-timeout': 'error', 'mqtt-service-failed': 'error',
  'http-service-failed': 'error', 'urc-interleaved': 'warning',
};

export function isFindingId(value: unknown): value is FindingId {
  return typeof value === 'string' && (FINDING_IDS as readonly string[]).includes(value);
}

/** A finding; its summary may quote the module, so it is made fit for a terminal here, once for all. */
export function finding(id: FindingId, summary: string, evidence: Evidence[] = [], options: { severity?: Severity; fix?: string } = {}): Finding {
  // A summary or evidence quoting the module's identification (`IMEI: …`) shows it masked, as traces do.
  const shown = evidence.map((e) => ({ ...e, text: maskIdentifiersInText(e.text) }));
  return { id, severity: options.severity ?? DEFAULT_SEVERITY[id], summary: withoutRepeats(forPerson(maskIdentifiersInText(summary))), evidence: shown, fix: options.fix ?? DEFAULT_FIX[id] };
}

/** A part of a message: the text after `: ` or `(`, up to the next `:`, `(`, `)`, `;` or `,`. */
const REPEATED_DETAIL = /(^|: |\()([^:();,]+?)(?:: \2(?=$|[);,]| \()| \(\2\))/gi;

/**
 * A message with no detail that only repeats what it follows: a verbose CME answer's meaning is
 * its own text, so `+CME ERROR: no network service: no network service` is
 * `+CME ERROR: no network service`, and `SIM not inserted (SIM not inserted)` is `SIM not inserted`.
 * Compared without regard to case; a detail that adds anything stays.
 */
export function withoutRepeats(text: string): string {
  let out = text;
  for (let last = ''; last !== out; ) {
    last = out;
    out = out.replace(REPEATED_DETAIL, '$1$2');
  }
  return out;
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** One finding per id: the most severe wins, evidence is merged (first 12 items kept). */
export function mergeFindings(list: readonly Finding[]): Finding[] {
  const byId = new Map<FindingId, Finding>();
  for (const f of list) {
    const seen = byId.get(f.id);
    if (!seen) {
      byId.set(f.id, { ...f, evidence: [...f.evidence] });
      continue;
    }
    const winner = RANK[f.severity] < RANK[seen.severity] ? { ...f, evidence: [...f.evidence] } : seen;
    const other = winner === seen ? f : seen;
    const indexes = new Set(winner.evidence.map((e) => `${e.dir}:${e.index}`));
    for (const e of other.evidence) if (!indexes.has(`${e.dir}:${e.index}`)) winner.evidence.push(e);
    winner.evidence.sort((a, b) => a.index - b.index);
    winner.evidence = winner.evidence.slice(0, 12);
    byId.set(f.id, winner);
  }
  return [...byId.values()].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}

/** True when any finding is error-level. */
export function hasError(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** Printable form of a line for evidence (control bytes escaped, trimmed, at most 160 chars). */
export function evidenceText(text: string): string {
  const shown = forPerson(text).replace(/\r?\n$/, '').trim();
  return shown.length > 160 ? `${shown.slice(0, 157)}...` : shown;
}

/**
 * Raw line text (latin1 view of the bytes) as a person should see it: valid UTF-8 decoded (pasted
 * logs: "busy inet…"), and control bytes, C1 ones included, escaped so none reaches the terminal.
 */
export function forPerson(text: string): string {
  let shown = text;
  if (/[\x80-\xff]/.test(text) && !/[^\x00-\xff]/.test(text)) {
    const utf8 = Buffer.from(text, 'latin1').toString('utf8');
    if (!utf8.includes('\ufffd')) shown = utf8;
  }
  return shown.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

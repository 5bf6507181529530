import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROFILE_DIR } from '../../profile/index.js';
import { finalOutcome, trimmed } from './text.js';

const QUICK_DROP_MS = 5000;

/** The modules' own MQTT clients' URCs and commands: data in firmware-profiles/services/native-services.json. */
const WORDS = z.object({
  connected: z.array(z.string()), connectResult: z.array(z.string()), connectResultTables: z.record(z.string(), z.string()),
  disconnected: z.array(z.string()), disconnectedAny: z.array(z.string()), connectionLost: z.array(z.string()), pingResult: z.array(z.string()),
  connectCommands: z.array(z.string()), clientCommands: z.array(z.string()),
  pingTimeout: z.array(z.string()), connectedOnOk: z.array(z.string()),
}).parse((JSON.parse(readFileSync(join(PROFILE_DIR, 'services', 'native-services.json'), 'utf8')) as { mqttClient: unknown }).mqttClient);
const anyOf = (list: string[], flags = '') => (list.length === 0 ? /(?!)/ : new RegExp(list.map((p) => `(?:${p})`).join('|'), flags));
const CONNECTED = anyOf(WORDS.connected);
const CONNECT_RESULT = WORDS.connectResult.map((p) => new RegExp(p));
const RESULT_TABLES = Object.entries(WORDS.connectResultTables).map(([p, table]) => ({ re: new RegExp(p), table }));
const DISCONNECTED = anyOf(WORDS.disconnected);
const DISCONNECTED_ANY = anyOf(WORDS.disconnectedAny);
const CONNECTION_LOST = anyOf(WORDS.connectionLost);
const PING_RESULT = WORDS.pingResult.map((p) => new RegExp(p));
const CONNECT_COMMAND = anyOf(WORDS.connectCommands, 'i');
const CLIENT_COMMAND = anyOf(WORDS.clientCommands, 'i');
const PING_TIMEOUT = anyOf(WORDS.pingTimeout);
const CONNECTED_ON_OK = anyOf(WORDS.connectedOnOk, 'i');
const codeIn = (list: RegExp[], text: string) => list.map((re) => re.exec(text)?.[1]).find((c) => c !== undefined);

/**
 * MQTT trouble, from the module's native MQTT URCs (ESP-AT +MQTT…, SIMCom +CMQTT…, Quectel +QMT…,
 * SIM7080 AT+SMCONN) and from
 * the MQTT packets decode found in socket data: mqtt-connect-refused, client-id-conflict, keepalive-timeout,
 * mqtt-service-failed (SIM7600's AT+CMQTTSTART answered with a non-zero code).
 */
export function mqttRule(): Rule {
  const refused: ClassifiedEvent[] = [];
  const dropped: ClassifiedEvent[] = [];
  const lostPing: ClassifiedEvent[] = [];
  const quickDrops: ClassifiedEvent[] = [];
  let connectedAt: { e: ClassifiedEvent } | undefined;
  let pingPending: ClassifiedEvent | undefined;
  /** The first refusing CONNACK as mosquitto -d shows it (socket data is binary). */
  let refusingConnack: string | undefined;
  const onLinkGone = (e: ClassifiedEvent) => {
    if (pingPending) lostPing.push(pingPending);
    pingPending = undefined;
    if (connectedAt && e.t !== undefined && connectedAt.e.t !== undefined && e.t - connectedAt.e.t < QUICK_DROP_MS) quickDrops.push(e);
    connectedAt = undefined;
  };
  return {
    name: 'mqtt',
    onEvent(e) {
      const text = trimmed(e);
      // MQTT carried in socket data, as decode read it.
      for (const packet of e.mqtt ?? []) {
        if (e.dir === 'tx' && packet.type === 'PINGREQ') pingPending ??= e;
        if (e.dir !== 'rx') continue;
        if (packet.type === 'CONNACK' && packet.code !== 0) {
          refused.push(e);
          refusingConnack ??= packet.text;
        } else if (packet.type === 'CONNACK') connectedAt = { e };
        else if (packet.type === 'PINGRESP') pingPending = undefined;
      }
      if (e.dir !== 'rx') return;
      if (e.classified?.urc?.event === 'socket-closed' || /^(?:\d+,)?CLOSED$/.test(text)) onLinkGone(e);
      // Native MQTT (ESP-AT 2.x, SIM7600 CMQTT).
      if (CONNECTED.test(text)) connectedAt = { e };
      if (DISCONNECTED.test(text)) {
        if (e.command && CONNECT_COMMAND.test(e.command)) refused.push(e);
        else {
          dropped.push(e);
          onLinkGone(e);
        }
      }
      // A non-zero connect result code is the services rule's (refused, network or TLS).
      if (codeIn(CONNECT_RESULT, text) === '0') connectedAt = { e };
      if (CONNECTION_LOST.test(text)) {
        dropped.push(e);
        onLinkGone(e);
      }
      const ping = codeIn(PING_RESULT, text);
      if ((ping !== undefined && ping !== '0') || PING_TIMEOUT.test(text)) lostPing.push(e);
    },
    onExchange(ex) {
      if (CONNECTED_ON_OK.test(ex.command) && finalOutcome(ex.final) === 'ok') connectedAt = { e: ex.final! };
      if (CONNECT_COMMAND.test(ex.command) && finalOutcome(ex.final) === 'error') {
        ex.explained = true;
        if (!refused.some((r) => ex.replies.includes(r))) refused.push(ex.final!);
      }
      if (CLIENT_COMMAND.test(ex.command) && ex.replies.some((r) => DISCONNECTED_ANY.test(trimmed(r)))) ex.explained = true;
    },
    finish(c) {
      if (refused.length > 0) {
        const first = refused[0]!.mqtt?.some((p) => p.type === 'CONNACK') ? refusingConnack! : trimmed(refused[0]!);
        const table = RESULT_TABLES.find((t) => t.re.test(first));
        const meaning = table ? c.explain(table.re.exec(first)![1], table.table) : undefined;
        c.add('mqtt-connect-refused', `the MQTT connection was refused (${first}${meaning ? `: ${meaning}` : ''})`, refused.slice(0, 4));
      }
      if (quickDrops.length >= 2) {
        c.add('client-id-conflict', `the broker closed the connection right after accepting it ${quickDrops.length} times: another client probably uses the same client id`, quickDrops.slice(0, 4));
      } else if (dropped.length > 0) {
        const during = dropped[0]!.command;
        c.add('peer-closed', `the broker closed the MQTT connection${during ? ` (after ${during})` : ''}: ${trimmed(dropped[0]!)}`, dropped.slice(0, 4), {
          fix: 'check the broker log: a topic the client may not use, a malformed packet or a duplicate client id make it hang up',
        });
      }
      if (lostPing.length > 0) c.add('keepalive-timeout', `PINGREQ went unanswered before the connection died (${lostPing.length} time${lostPing.length > 1 ? 's' : ''})`, lostPing.slice(0, 4));
    },
  };
}

import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';
import { finalOutcome, trimmed } from './text.js';

const QUICK_DROP_MS = 5000;

/**
 * MQTT trouble, from the module's native MQTT URCs (ESP-AT +MQTT…, SIM7600 +CMQTT…) and from
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
      if (/^\+MQTTCONNECTED:/.test(text)) connectedAt = { e };
      if (/^\+MQTTDISCONNECTED:\d+$/.test(text)) {
        if (e.command && /^AT\+MQTTCONN=/i.test(e.command)) refused.push(e);
        else {
          dropped.push(e);
          onLinkGone(e);
        }
      }
      // A non-zero +CMQTTCONNECT code is the services rule's (refused, network or TLS).
      const cm = /^\+CMQTTCONNECT: ?\d+,(\d+)$/.exec(text);
      if (cm && cm[1] === '0') connectedAt = { e };
      if (/^\+CMQTTCONNLOST: ?\d+,\d+$/.test(text)) {
        dropped.push(e);
        onLinkGone(e);
      }
      const ping = /^\+CMQTTPING: ?\d+,(\d+)$/.exec(text);
      if (ping && ping[1] !== '0') lostPing.push(e);
    },
    onExchange(ex) {
      if (/^AT\+MQTTCONN=/i.test(ex.command) && finalOutcome(ex.final) === 'error') {
        ex.explained = true;
        if (!refused.some((r) => ex.replies.includes(r))) refused.push(ex.final!);
      }
      if (/^AT\+MQTT(?:SUB|PUB|UNSUB)/i.test(ex.command) && ex.replies.some((r) => /^\+MQTTDISCONNECTED/.test(trimmed(r)))) ex.explained = true;
    },
    finish(c) {
      if (refused.length > 0) {
        const first = refused[0]!.mqtt?.some((p) => p.type === 'CONNACK') ? refusingConnack! : trimmed(refused[0]!);
        const code = /^\+CMQTTCONNECT: ?\d+,(\d+)$/.exec(first)?.[1];
        const meaning = code ? c.explain(code, 'cmqtt') : undefined;
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

import type { MqttClient } from '../client.js';
import { describePacket } from '../describe.js';

/** mosquitto-style -d lines: "Client <id> sending PUBLISH (...)". Passwords are never part of them. */
export function attachDebug(client: MqttClient, write: (line: string) => void): void {
  client.on('packetsend', (packet) => write(`Client ${client.clientId} sending ${describePacket(packet)}`));
  client.on('packetreceive', (packet) => {
    write(`Client ${client.clientId} received ${describePacket(packet)}`);
    if (packet.cmd === 'suback') write(`Subscribed (mid: ${packet.messageId ?? 0}): ${(packet.granted as number[]).join(', ')}`);
  });
}

/** Status lines (reconnects, drops) that a person watching a long run wants on stderr. */
export function attachStatus(client: MqttClient, write: (line: string) => void): void {
  client.on('offline', (reason) => write(`connection lost${reason ? `: ${reason.message}` : ''}`));
  // Say why once per cause: a broker that stays away should not fill the terminal with its reason.
  let lastReason = '';
  client.on('reconnect', (attempt, delayMs, reason) => {
    const why = reason && reason.message !== lastReason ? ` (${reason.message})` : '';
    lastReason = reason?.message ?? '';
    write(`reconnecting in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt})${why}`);
  });
  client.on('error', (error) => {
    if (error.code === 'client-id-conflict') write(`${error.message}${error.fix ? ` (${error.fix})` : ''}`);
  });
}

/** Modem bring-up steps (registration can take a minute): with -d among the packets, else on a terminal's stderr. */
export function modemProgress(debug: boolean, say: (line: string) => void): (line: string) => void {
  return (line) => {
    if (debug) say(`modem: ${line}`);
    else if (process.stderr.isTTY) process.stderr.write(`atbridge: ${line}\n`);
  };
}

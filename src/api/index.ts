/**
 * atbridge: drive cellular and Wi-Fi modules over AT commands and carry MQTT through the
 * module's own TCP socket.
 *
 * The main entry opens modem sessions, runs the MQTT client (with its memory and durable
 * queues) and TLS over a module's socket, loads firmware profiles, and names the errors.
 * Two subpath entries keep it small: `atbridge/emulator` (a virtual modem for your tests) and
 * `atbridge/capture` (traces, captured logs, decoding and diagnosis).
 *
 * @example
 * ```ts
 * import { openModemSession, MqttClient } from 'atbridge';
 * const session = await openModemSession({ device: 'emu:sim7600', apn: 'internet' });
 * const client = new MqttClient({ connect: () => session.connect('127.0.0.1', 1883), clientId: 'sensor-1' });
 * await client.start();
 * await client.publish('site/1/temp', '21.5', { qos: 1 });
 * ```
 *
 * @module
 */
export { openModemSession } from './session.js';
export type { CellularFacts, ModemFacts, ModemSession, ModemSessionEvents, ModemSessionOptions, ModemSessionTuning, ModemState, ModemStatus, Transition, WifiFacts } from './session.js';

export { MqttClient } from '../mqtt/client.js';
export type { ClientEvents, ConnectSettings, MqttClientOptions, ProtocolVersion, PublishOptions, ReconnectOptions, SubscribeOptions, WillOptions } from '../mqtt/client.js';
export { MemoryQueue } from '../mqtt/outbound-queue.js';
export type { DeliveryState, DropReason, NewMessage, OutboundQueue, PublishProperties, QueueBounds, QueuedMessage, QueueStats } from '../mqtt/outbound-queue.js';
export { DurableQueue } from '../mqtt/durable-queue.js';
export type { DurableQueueOptions, FsyncPolicy } from '../mqtt/durable-queue.js';
export { topicMatches } from '../mqtt/topic.js';
export { startTls } from '../mqtt/tls.js';
export type { TlsOptions, TlsSettings } from '../mqtt/tls.js';

export { getProfile, listProfileIds, ModuleProfile } from '../profile/index.js';
export type { Profile } from '../profile/index.js';

export { AtbridgeError, ERROR_CODES, ExitCode, isAtbridgeError } from '../errors.js';
export type { ErrorCode } from '../errors.js';
export { AtError } from '../at/errors.js';
export type { AtErrorCode } from '../at/errors.js';

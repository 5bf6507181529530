/** Bytes of an MQTT PUBLISH on the wire: fixed header, topic, packet id (QoS ≥ 1), properties (v5), payload. */
export function publishPacketBytes(topic: string, payloadBytes: number, qos: number, protocolVersion: number): number {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payloadBytes;
  let lengthBytes = 1;
  for (let n = remaining; n >= 128; n = Math.floor(n / 128)) lengthBytes++;
  return 1 + lengthBytes + remaining;
}

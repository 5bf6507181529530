/** The standard workloads of issue 7. */
export type WorkloadId = 'W1' | 'W2' | 'W3';

export interface Workload {
  id: WorkloadId;
  label: string;
  /** Publish from the module side ('pub') or subscribe there and receive ('sub'). */
  direction: 'pub' | 'sub';
  count: number;
  qos: 0 | 1;
  payloadBytes: number;
  topic: string;
}

export const TOPIC = 'gw/pi-01/temp';

export const WORKLOADS: Record<WorkloadId, Workload> = {
  W1: { id: 'W1', label: '1,000 × QoS 1 × 64 B publish', direction: 'pub', count: 1000, qos: 1, payloadBytes: 64, topic: TOPIC },
  W2: { id: 'W2', label: '200 × QoS 0 × 1 KiB publish', direction: 'pub', count: 200, qos: 0, payloadBytes: 1024, topic: TOPIC },
  W3: { id: 'W3', label: 'subscribe, receive 1,000 × QoS 1 × 64 B', direction: 'sub', count: 1000, qos: 1, payloadBytes: 64, topic: TOPIC },
};

/** A payload that is not all one byte (so nothing downstream could compress it by accident). */
export function payload(n: number, seq: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + ((i * 7 + seq) % 95);
  return b;
}

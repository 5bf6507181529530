/**
 * Probe payloads in the layout of JMeter's MQTT plugin ("add timestamp in payload"): the send time
 * in epoch milliseconds as decimal text at the payload's start, then the separator `ts_sep_flag`,
 * then the rest. A JMeter subscriber reads the delay from the first field alone. After the
 * separator the probe writes its own fields (run id, sequence number, QoS, send time in
 * microseconds of this process's clock) and pads with `x` to the requested size.
 */
export const TIMESTAMP_SEPARATOR = 'ts_sep_flag';

export interface ProbeStamp {
  /** Epoch milliseconds at the send (JMeter's field). */
  sentEpochMs: number;
  runId: string;
  seq: number;
  qos: number;
  /** Send time on this process's monotonic clock, microseconds (finer than JMeter's field). */
  sentUs: number;
}

function header(stamp: ProbeStamp): string {
  return `${stamp.sentEpochMs}${TIMESTAMP_SEPARATOR}${stamp.runId} ${stamp.seq} ${stamp.qos} ${Math.round(stamp.sentUs)} `;
}

/** The smallest --size that holds the header for this run (sequence numbers up to maxSeq). */
export function minimumSize(runId: string, maxSeq: number): number {
  return header({ sentEpochMs: 9_999_999_999_999, runId, seq: maxSeq, qos: 2, sentUs: 99_999_999_999_999 }).length;
}

/** Builds a payload of exactly `size` bytes (or the header alone when it is longer). */
export function buildPayload(stamp: ProbeStamp, size: number): Buffer {
  const head = Buffer.from(header(stamp), 'latin1');
  if (head.length >= size) return head;
  const out = Buffer.alloc(size, 'x');
  head.copy(out);
  return out;
}

/** Reads a payload back; undefined when it is not a probe payload (someone else's message). */
export function parsePayload(payload: Buffer): ProbeStamp | undefined {
  const text = payload.subarray(0, 160).toString('latin1');
  const sep = text.indexOf(TIMESTAMP_SEPARATOR);
  if (sep <= 0) return undefined;
  const sentEpochMs = Number(text.slice(0, sep));
  const fields = text.slice(sep + TIMESTAMP_SEPARATOR.length).split(' ');
  if (!Number.isInteger(sentEpochMs) || fields.length < 4) return undefined;
  const [runId, seq, qos, sentUs] = fields as [string, string, string, string];
  const stamp = { sentEpochMs, runId, seq: Number(seq), qos: Number(qos), sentUs: Number(sentUs) };
  if (!Number.isInteger(stamp.seq) || !Number.isInteger(stamp.qos) || !Number.isFinite(stamp.sentUs)) return undefined;
  return stamp;
}

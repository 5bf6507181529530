import { writeFileSync } from 'node:fs';
import { AtbridgeError, ExitCode, errorMessage } from '../errors.js';
import type { Sample } from './samples.js';

/**
 * JMeter's CSV result format with its default columns, in the order JMeter's CSVSaveService writes
 * them (jmeter.properties defaults since JMeter 3.x / 5.x: timestamp as epoch ms, comma delimiter,
 * field names on the first line). A field holding the delimiter, a quote, CR or LF is quoted and
 * its quotes doubled, as CSVSaveService.quoteDelimiters does.
 */
export const JTL_COLUMNS = [
  'timeStamp', 'elapsed', 'label', 'responseCode', 'responseMessage', 'threadName', 'dataType', 'success',
  'failureMessage', 'bytes', 'sentBytes', 'grpThreads', 'allThreads', 'URL', 'Latency', 'IdleTime', 'Connect',
] as const;

export function quoteField(value: string): string {
  if (!/[",\r\n]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

export function jtlRow(s: Sample): string {
  const fields: (string | number | boolean)[] = [
    s.timeStamp, s.elapsed, s.label, s.responseCode, s.responseMessage, s.threadName, 'text', s.success,
    s.failureMessage, s.bytes, s.sentBytes, s.grpThreads, s.allThreads, s.url, s.latency, 0, s.connect,
  ];
  return fields.map((f) => quoteField(String(f))).join(',');
}

/** The whole file: header line, then one row per sample in time order. */
export function jtlText(samples: readonly Sample[]): string {
  const sorted = [...samples].sort((a, b) => a.timeStamp - b.timeStamp);
  return `${JTL_COLUMNS.join(',')}\n${sorted.map(jtlRow).join('\n')}${sorted.length > 0 ? '\n' : ''}`;
}

export function writeJtl(file: string, samples: readonly Sample[]): void {
  try {
    writeFileSync(file, jtlText(samples));
  } catch (err) {
    throw new AtbridgeError('bad-output', `cannot write ${file}: ${errorMessage(err)}`, { exitCode: ExitCode.failure });
  }
}

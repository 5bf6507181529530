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

/**
 * JMeter 2.13 (Debian's package) reads a CSV header only when it knows every column: it predates
 * sentBytes (JMeter 3.1), so that column is left out for it. The order is the same.
 */
export const JTL_COLUMNS_2_13 = JTL_COLUMNS.filter((c) => c !== 'sentBytes');

export type JtlVersion = '5' | '2.13';

export function jtlColumns(version: JtlVersion): readonly string[] {
  return version === '2.13' ? JTL_COLUMNS_2_13 : JTL_COLUMNS;
}

export function quoteField(value: string): string {
  if (!/[",\r\n]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

export function jtlRow(s: Sample, version: JtlVersion = '5'): string {
  const fields: (string | number | boolean)[] = [
    s.timeStamp, s.elapsed, s.label, s.responseCode, s.responseMessage, s.threadName, 'text', s.success,
    s.failureMessage, s.bytes, ...(version === '2.13' ? [] : [s.sentBytes]), s.grpThreads, s.allThreads, s.url, s.latency, 0, s.connect,
  ];
  return fields.map((f) => quoteField(String(f))).join(',');
}

/** The whole file: header line, then one row per sample in time order. */
export function jtlText(samples: readonly Sample[], version: JtlVersion = '5'): string {
  const sorted = [...samples].sort((a, b) => a.timeStamp - b.timeStamp);
  return `${jtlColumns(version).join(',')}\n${sorted.map((s) => jtlRow(s, version)).join('\n')}${sorted.length > 0 ? '\n' : ''}`;
}

export function writeJtl(file: string, samples: readonly Sample[], version: JtlVersion = '5'): void {
  try {
    writeFileSync(file, jtlText(samples, version));
  } catch (err) {
    throw new AtbridgeError('bad-output', `cannot write ${file}: ${errorMessage(err)}`, { exitCode: ExitCode.failure });
  }
}

import { AtbridgeError, ExitCode } from '../errors.js';
import type { Dialect } from './dialect.js';
import { dialect as a76xx } from './a76xx.js';
import { dialect as espAt } from './esp-at.js';
import { dialect as esp8266At1 } from './esp8266-at1.js';
import { dialect as quectel } from './quectel.js';
import { dialect as sim7600 } from './sim7600.js';
import { dialect as sim800 } from './sim800.js';
import { dialect as sim7080, sim7000Dialect as sim7000 } from './sim7080.js';

export type { Dialect };

/** Every emulated family. A new dialect is one file exporting `dialect` and one line here. */
export const DIALECTS: readonly Dialect[] = [
  sim7600,
  espAt,
  esp8266At1,
  a76xx,
  sim800,
  quectel,
  sim7080,
  sim7000,
];

export function dialectIds(): string[] {
  return DIALECTS.map((d) => d.id);
}

export function findDialect(id: string): Dialect | undefined {
  return DIALECTS.find((d) => d.id === id);
}

/** The dialect for an id, or one clear line naming the ones there are. */
export function getDialect(id: string, what = 'emulator profile'): Dialect {
  const found = findDialect(id);
  if (found) return found;
  throw new AtbridgeError('bad-option', `${what} "${id}" is not an emulated family; use ${oneOf(dialectIds())}`, { exitCode: ExitCode.usage });
}

/** `a`, `a or b`, `a, b or c`. */
export function oneOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The profile id a dialect's module reads. */
export function profileOf(dialect: Dialect): string {
  return dialect.profile ?? dialect.id;
}

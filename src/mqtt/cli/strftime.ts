import { readFileSync } from 'node:fs';

/** Times as mosquitto_sub prints them: local time, localtime() and strftime() in the C locale. */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const p2 = (n: number) => String(n).padStart(2, '0');
const s2 = (n: number) => String(n).padStart(2, ' ');
const hour12 = (t: Date) => t.getHours() % 12 || 12;

/** @-conversions: strftime's, plus @N for nanoseconds (mosquitto_sub's own). */
const STRFTIME: Record<string, (t: Date) => string> = {
  a: (t) => DAYS[t.getDay()]!.slice(0, 3),
  A: (t) => DAYS[t.getDay()]!,
  b: (t) => MONTHS[t.getMonth()]!.slice(0, 3),
  B: (t) => MONTHS[t.getMonth()]!,
  c: (t) => `${strftime('a', t)} ${strftime('b', t)} ${s2(t.getDate())} ${strftime('T', t)} ${t.getFullYear()}`,
  C: (t) => p2(Math.floor(t.getFullYear() / 100)),
  d: (t) => p2(t.getDate()),
  D: (t) => strftime('x', t),
  e: (t) => s2(t.getDate()),
  F: (t) => `${t.getFullYear()}-${p2(t.getMonth() + 1)}-${p2(t.getDate())}`,
  g: (t) => p2(isoWeek(t).year % 100),
  G: (t) => String(isoWeek(t).year),
  h: (t) => strftime('b', t),
  H: (t) => p2(t.getHours()),
  I: (t) => p2(hour12(t)),
  j: (t) => String(yearDay(t) + 1).padStart(3, '0'),
  k: (t) => s2(t.getHours()),
  l: (t) => s2(hour12(t)),
  m: (t) => p2(t.getMonth() + 1),
  M: (t) => p2(t.getMinutes()),
  n: () => '\n',
  N: (t) => nanoseconds(t),
  p: (t) => (t.getHours() < 12 ? 'AM' : 'PM'),
  P: (t) => (t.getHours() < 12 ? 'am' : 'pm'),
  r: (t) => `${p2(hour12(t))}:${p2(t.getMinutes())}:${p2(t.getSeconds())} ${strftime('p', t)}`,
  R: (t) => `${p2(t.getHours())}:${p2(t.getMinutes())}`,
  s: (t) => String(Math.floor(t.getTime() / 1000)),
  S: (t) => p2(t.getSeconds()),
  t: () => '\t',
  T: (t) => `${p2(t.getHours())}:${p2(t.getMinutes())}:${p2(t.getSeconds())}`,
  u: (t) => String(t.getDay() || 7),
  U: (t) => p2(Math.floor((yearDay(t) + 7 - t.getDay()) / 7)),
  V: (t) => p2(isoWeek(t).week),
  w: (t) => String(t.getDay()),
  W: (t) => p2(Math.floor((yearDay(t) + 7 - ((t.getDay() + 6) % 7)) / 7)),
  x: (t) => `${p2(t.getMonth() + 1)}/${p2(t.getDate())}/${p2(t.getFullYear() % 100)}`,
  X: (t) => strftime('T', t),
  y: (t) => p2(t.getFullYear() % 100),
  Y: (t) => String(t.getFullYear()),
  z: (t) => utcOffset(t),
  Z: (t) => zoneName(t),
  '%': () => '%',
};

/** One strftime conversion; glibc prints an unknown one as is, a digit as a width that pads it. */
export function strftime(conversion: string, t: Date): string {
  const known = STRFTIME[conversion];
  if (known) return known(t);
  return /^[0-9]$/.test(conversion) ? `%${conversion}`.padStart(Number(conversion)) : `%${conversion}`;
}

/** %I: strftime's %FT%T%z, whole seconds. */
export function isoTime(t: Date): string {
  return `${strftime('F', t)}T${strftime('T', t)}${utcOffset(t)}`;
}

/** The JSON "tst": microseconds, then a literal Z and the UTC offset (mosquitto's own shape). */
export function jsonTime(t: Date): string {
  return `${strftime('F', t)}T${strftime('T', t)}.${nanoseconds(t).slice(0, 6)}Z${utcOffset(t)}`;
}

export function nanoseconds(t: Date): string {
  return String((((t.getTime() % 1000) + 1000) % 1000) * 1_000_000).padStart(9, '0');
}

function utcOffset(t: Date): string {
  const minutes = -t.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${p2(Math.floor(abs / 60))}${p2(abs % 60)}`;
}

interface ZoneRule {
  std: string;
  stdOffset: number;
  dst: string | undefined;
}

let zoneRule: ZoneRule | null | undefined;

/** %Z as glibc names the zone ("CET", "IST", "+11"), read from the zone file's rule; else ICU's name ("GMT+1"). */
function zoneName(t: Date): string {
  // null (no zone file) is an answer too: read the file once.
  if (zoneRule === undefined) zoneRule = readZoneRule();
  if (zoneRule) return -t.getTimezoneOffset() * 60 === zoneRule.stdOffset || zoneRule.dst === undefined ? zoneRule.std : zoneRule.dst;
  const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(t);
  return parts.find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/** The zone file glibc would read (TZ, else /etc/localtime) ends with a POSIX TZ rule naming the current abbreviations. */
function readZoneRule(): ZoneRule | null {
  const tz = process.env.TZ?.replace(/^:/, '');
  if (tz === '') return { std: 'UTC', stdOffset: 0, dst: undefined };
  try {
    const file = readFileSync(tz === undefined ? '/etc/localtime' : tz.startsWith('/') ? tz : `/usr/share/zoneinfo/${tz}`);
    if (file.toString('latin1', 0, 4) !== 'TZif' || file[4] === 0) return null; // version 1 files have no rule
    const text = file.toString('latin1').trimEnd();
    return posixTzRule(text.slice(text.lastIndexOf('\n') + 1));
  } catch {
    return null;
  }
}

/** "CET-1CEST,M3.5.0,M10.5.0/3", "<+1030>-10:30<+11>-11,...": the names, and the standard offset (POSIX counts it westward). */
function posixTzRule(rule: string): ZoneRule | null {
  const m = /^(<[^>]*>|[A-Za-z]{3,})([-+]?)(\d+)(?::(\d+))?(?::(\d+))?(<[^>]*>|[A-Za-z]{3,})?/.exec(rule);
  if (!m) return null;
  const name = (s: string) => s.replace(/^<(.*)>$/, '$1');
  const west = Number(m[3]) * 3600 + Number(m[4] ?? 0) * 60 + Number(m[5] ?? 0);
  return { std: name(m[1]!), stdOffset: m[2] === '-' ? west : -west, dst: m[6] === undefined ? undefined : name(m[6]) };
}

function yearDay(t: Date): number {
  return (Date.UTC(t.getFullYear(), t.getMonth(), t.getDate()) - Date.UTC(t.getFullYear(), 0, 1)) / 86_400_000;
}

/** ISO 8601 week and its year (%V, %G, %g). */
function isoWeek(t: Date): { year: number; week: number } {
  const year = t.getFullYear();
  const week = Math.floor((yearDay(t) - ((t.getDay() + 6) % 7) + 10) / 7);
  if (week < 1) return { year: year - 1, week: isoWeeksIn(year - 1) };
  if (week > isoWeeksIn(year)) return { year: year + 1, week: 1 };
  return { year, week };
}

/** 53 when the year starts on a Thursday, or on a Wednesday in a leap year. */
function isoWeeksIn(year: number): number {
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const leap = new Date(Date.UTC(year, 1, 29)).getUTCDate() === 29;
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
}

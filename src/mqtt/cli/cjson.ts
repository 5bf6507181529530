const p2 = (n: number) => String(n).padStart(2, '0');

// Printed the way mosquitto_sub's JSON library (cJSON) prints.

/** A JSON object as an ordered list of members: MQTT 5 properties may repeat a name. */
export class JsonObject {
  constructor(readonly members: [string, unknown][]) {}
}

/** cJSON_Print (pretty: tab indents, a tab after each colon, arrays on one line) or cJSON_PrintUnformatted. */
export function cjson(value: unknown, pretty: boolean, depth = 0): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return cjsonNumber(value);
  if (typeof value === 'string') return cjsonString(value);
  if (Array.isArray(value)) return `[${value.map((v) => cjson(v, pretty, depth + 1)).join(pretty ? ', ' : ',')}]`;
  // JSON.parse orders integer-like keys first; cJSON would keep the payload's order.
  const members = value instanceof JsonObject ? value.members : Object.entries(value as object);
  const inner = depth + 1;
  const printed = members.map(([k, v]) => `${cjsonString(k)}:${pretty ? '\t' : ''}${cjson(v, pretty, inner)}`);
  if (!pretty) return `{${printed.join(',')}}`;
  const body = printed.map((member) => '\t'.repeat(inner) + member).join(',\n');
  return `{\n${body}${printed.length > 0 ? '\n' : ''}${'\t'.repeat(depth)}}`;
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function cjsonString(s: string): string {
  const escaped = s.replace(/["\\\u0000-\u001f]/g, (ch) => JSON_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

/** cJSON: printf %1.15g, or %1.17g when 15 digits do not give the number back. */
function cjsonNumber(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  const short = printfG(n, 15);
  const back = Number(short);
  return Math.abs(back - n) <= Math.max(Math.abs(back), Math.abs(n)) * Number.EPSILON ? short : printfG(n, 17);
}

/** printf's %.<precision>g: fixed or exponent form by the exponent, trailing zeros dropped, an exponent of two digits at least. */
function printfG(n: number, precision: number): string {
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exp] = n.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exp);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exponent < -4 || exponent >= precision) return `${trim(mantissa)}e${exponent < 0 ? '-' : '+'}${p2(Math.abs(exponent))}`;
  return trim(n.toFixed(precision - 1 - exponent));
}

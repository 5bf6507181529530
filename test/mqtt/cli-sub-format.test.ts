import type { IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMessage, formatProblem, type OutputOptions } from '../../src/mqtt/cli/format.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll, run } from './cli-support.js';
import { uniqueId } from './support.js';

let broker: Mosquitto;
let hp: string[];
const savedTz = process.env.TZ;

beforeAll(async () => {
  process.env.TZ = 'UTC'; // times print in local time: pin it (the CLIs started below inherit it)
  broker = await startMosquitto({ persistence: false });
  hp = ['-h', '127.0.0.1', '-p', String(broker.port)];
});
afterAll(async () => {
  killAll();
  await broker?.stop();
  setTz(savedTz);
});

function setTz(tz: string | undefined): void {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
}

// Every expected string here was printed by mosquitto_sub 2.0.11 (and glibc's strftime) for the same input.

function packet(topic: string, payload: string | Buffer, extra: Partial<IPublishPacket> = {}): IPublishPacket {
  return { cmd: 'publish', topic, payload, qos: 0, retain: true, dup: false, ...extra };
}

const options: OutputOptions = { verbose: false, eol: false, format: undefined, pretty: false, clientId: 'me' };

function format(fmt: string, p: IPublishPacket, extra: Partial<OutputOptions> = {}, now = new Date(Date.UTC(2026, 0, 1, 2, 3, 4, 567))) {
  const out = formatMessage(p, Buffer.from(p.payload), { ...options, format: fmt, ...extra }, now);
  return { text: out.bytes.toString('utf8'), errors: out.errors };
}

describe('sub -F formats like mosquitto_sub 2.0.11', () => {
  const hello = packet('a', 'hello world');

  it('applies widths, flags and precisions where mosquitto_sub does, with its quirks', () => {
    const cases: [string, string][] = [
      ['%10p|', 'hello worl|'], // a width also cuts the payload
      ['%-10p|', 'hello worl|'],
      ['%05p|', 'hello|'],
      ['%.3p|', 'hello world|'], // no precision for payloads
      // hex as mosquitto_sub 2.1 prints it (its client tests' expectations): a width pads, cutting at width bytes
      ['%24x|', '  68656c6c6f20776f726c64|'],
      ['%-20X|', '68656C6C6F20776F726C64  |'], // printf("%*s", -2): the quirk pads by 2 anyway
      ['%05x|', '68656c6c6f|'],
      ['%10t|', '         a|'],
      ['%-10t|', 'a         |'],
      ['%05t|', '    a|'], // strings pad with spaces
      ['%5.1t|%.0t|', '    a||'],
      ['%05l|%-5l|%5l|%.2l|', '00011|11   |   11|11|'],
      ['%-05l|%00005l|%-0l|', '11   |00011|11|'],
      ['%5q|%5r|%5%|%05m|', '0|1|%|00000|'],
    ];
    for (const [fmt, expected] of cases) expect({ fmt, text: format(fmt, hello).text }).toEqual({ fmt, text: expected });
    expect(format('%10p|%-6p|%06p|%-4x|%05X', packet('e', 'hi')).text).toBe('        hi|hi    |0000hi|6869|06869');
    expect(format('%.2:x|%.1x|%.4-X|', packet('e', 'hello')).text).toBe('68:65:6c:6c:6f|6 8 6 5 6 c 6 c 6 f|6865-6C6C-6F|');
    // %d / %f (2.1): an 8-byte double and a 4-byte float, little-endian, with printf's precision
    expect(format('%.3d|%8.2d', packet('e', Buffer.from([0x58, 0x39, 0xb4, 0xc8, 0x76, 0xbe, 0x05, 0x40]))).text).toBe('2.718|    2.72');
    expect(format('%.3f', packet('e', Buffer.from([0xf4, 0xfd, 0x34, 0x3f]))).text).toBe('0.707');
  });

  it('refuses a bad -F with mosquitto_sub words, and accepts what it accepts', () => {
    const bad: [string, string][] = [
      ['%z', "Invalid format specifier 'z'."],
      ['%0-5p', "Invalid format specifier '5'."],
      ['abc%', 'Incomplete format specifier.'],
      ['%5', 'Incomplete format specifier.'],
      ['%-', 'Incomplete format specifier.'],
      ['%.', 'Incomplete format specifier.'],
      ['x@', 'Incomplete format specifier.'],
      ['x\\', 'Incomplete escape specifier.'],
      ['\\q', "Invalid escape specifier 'q'."],
      ['@\\\\|', "Invalid escape specifier '|'."], // @ takes the next character, whatever it is
    ];
    for (const [fmt, problem] of bad) expect({ fmt, problem: formatProblem(fmt) }).toEqual({ fmt, problem });
    for (const fmt of ['%-05p', '%10.3t', '%.t', '@@@%@\\', '%A%C%D%E%F%P%R%S%I%U%j%J%c', '\\n\\\\\\t\\e\\a\\v\\r\\0', '']) {
      expect({ fmt, problem: formatProblem(fmt) }).toEqual({ fmt, problem: undefined });
    }
  });

  it('%J on a payload that is not JSON prints the rest of the line and one error', () => {
    expect(format('[%J]', hello)).toEqual({ text: '[]', errors: ['Error: Message payload is not valid JSON on topic a.'] });
    expect(format('%J', packet('t', '{"a":1} x')).errors).toHaveLength(1);
    expect(format('%J', packet('t', ' 42 ')).text).toContain('"payload":42}');
    // An empty payload is null for both, and %j stops at a NUL byte like cJSON's strings.
    expect(format('%j %J', packet('t', '')).text.match(/"payload":null/g)).toHaveLength(2);
    expect(format('%j', packet('t', Buffer.from('a\0b'))).text).toContain('"payloadlen":3,"payload":"a"}');
  });

  it('prints JSON the way cJSON does: numbers, escapes, pretty layout', () => {
    const payload = '{"d":0.1,"e":1e16,"f":1.5e-7,"g":123456789012,"h":-0,"q":1e300,"r":0.000123,"t":1e15,"u":1e-5,"o":"x\\u0001\\u007f/"}';
    expect(format('%J', packet('n', payload)).text).toBe(
      '{"tst":"2026-01-01T02:03:04.567000Z+0000","topic":"n","qos":0,"retain":1,"payloadlen":' +
        `${payload.length},"payload":{"d":0.1,"e":1e+16,"f":1.5e-07,"g":123456789012,"h":-0,"q":1e+300,"r":0.000123,"t":1e+15,"u":1e-05,"o":"x\\u0001\x7f/"}}`,
    );
    const pretty = format('%J', packet('n', '{"a":[1,2,{"b":[]}],"c":{}}'), { pretty: true }).text;
    expect(pretty.slice(pretty.indexOf('\t"payload"'))).toBe('\t"payload":\t{\n\t\t"a":\t[1, 2, {\n\t\t\t\t"b":\t[]\n\t\t\t}],\n\t\t"c":\t{\n\t\t}\n\t}\n}');
  });

  it('prints MQTT 5 properties with %A..%S and in JSON, and pads the absent ones', () => {
    const properties = {
      contentType: 'text/x',
      correlationData: Buffer.from('corr'),
      payloadFormatIndicator: true,
      responseTopic: 'resp/t',
      userProperties: { k1: 'v1', k2: 'v2' },
      messageExpiryInterval: 3600,
    };
    const v5 = packet('p5', 'hi', { qos: 1, messageId: 7, properties });
    expect(format('[%A][%C][%D][%E][%F][%P][%R][%S]', v5).text).toBe('[][text/x][corr][3600][1][k1:v1 k2:v2][resp/t][]');
    expect(format('[%5A][%-12C][%8D][%-6E][%03F][%5P][%10R][%05S][%6m]', v5).text).toBe('[     ][text/x      ][corr][3600  ][001][k1:v1 k2:v2][    resp/t][00000][     7]');
    expect(format('[%5A][%-12C][%8D][%-6E][%03F][%5P][%10R][%05S]', hello).text).toBe('[     ][            ][][      ][000][][][00000]');
    expect(format('%j', v5).text).toBe(
      '{"tst":"2026-01-01T02:03:04.567000Z+0000","topic":"p5","qos":1,"retain":1,"payloadlen":2,"mid":7,"properties":{"content-type":"text/x",' +
        '"correlation-data":"corr","payload-format-indicator":1,"response-topic":"resp/t","user-properties":{"k1":"v1","k2":"v2"},"message-expiry-interval":3600},"payload":"hi"}',
    );
  });

  describe('times are local, as strftime prints them', () => {
    beforeAll(() => setTz('America/St_Johns')); // -03:30: 2026-01-01T02:03:04Z is still 2025 there
    afterAll(() => setTz('UTC'));

    it('%I, %U, the JSON tst and every @ conversion', () => {
      expect(format('%I|%U|%30I|%-.10I|', hello).text).toBe('2025-12-31T22:33:04-0330|1767232984.567000000|      2025-12-31T22:33:04-0330|2025-12-31|');
      expect(format('%j', hello).text).toContain('"tst":"2025-12-31T22:33:04.567000Z-0330"');
      const conversions = 'aAbBcCdDeFgGhHIjklmMpPrRsSTuUVwWxXyYzZ%N';
      const at = format([...conversions].map((c) => `@${c}`).join('|'), hello).text.split('|');
      expect(at).toEqual(
        'Wed|Wednesday|Dec|December|Wed Dec 31 22:33:04 2025|20|31|12/31/25|31|2025-12-31|26|2026|Dec|22|10|365|22|10|12|33|PM|pm|10:33:04 PM|22:33|1767232984|04|22:33:04|3|52|01|3|52|12/31/25|22:33:04|25|2025|-0330|NST|%|567000000'.split('|'),
      );
      // glibc prints an unknown conversion as is; a digit is read as a width.
      expect(format('@@|@n|@t|@q|@E|@3|@5|@+', hello).text).toBe('@|\n|\t|%q|%E| %3|   %5|%+');
    });
  });
});


/** Runs mosquitto_sub and atbridge sub with the same arguments, at the same time. */
function both(args: string[]) {
  return Promise.all([run('mosquitto_sub', args, { timeoutMs: 10_000 }), atbridge(['sub', ...args], { timeoutMs: 10_000 })]);
}

describe.runIf(cliBuilt())('atbridge sub -F against mosquitto_sub', () => {
  it('prints widths, flags, precisions, escapes and MQTT 5 properties byte for byte like mosquitto_sub', async () => {
    const topic = `fmt/${uniqueId()}`;
    // No message expiry: the broker counts a retained message's expiry down, so two readers a second apart differ (the unit tests cover %E).
    const props = ['-D', 'publish', 'content-type', 'text/x', '-D', 'publish', 'user-property', 'k', 'v'];
    await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'hello world', '-r', '-q', '1', '-V', 'mqttv5', ...props]);
    // No %x here: its widths changed in mosquitto 2.1 (the unit test above has them), this broker's clients are 2.0.11.
    const fmt = '%10p|%-10p|%05p|%.3p|%10t|%-10t|%05t|%.1t|%05l|%-5l|%.2l|%5q|%5r|%05m|%5%|[%5A][%-12C][%D][%-6E][%03F][%P][%10R][%05S]|@@|@q|\\t\\\\';
    for (const version of ['mqttv311', 'mqttv5']) {
      const [theirs, ours] = await both([...hp, '-t', topic, '-C', '1', '-V', version, '-F', fmt]);
      expect({ version, out: ours.stdout, code: ours.code }).toEqual({ version, out: theirs.stdout, code: theirs.code });
    }
    await run('mosquitto_pub', [...hp, '-t', topic, '-n', '-r']);
  });

  it('-F %J -C 2 with a payload that is not JSON: the same error line, and both exit 0 after 2 messages', async () => {
    const topic = `json/${uniqueId()}`;
    await run('mosquitto_pub', [...hp, '-t', `${topic}/text`, '-m', 'not json', '-r']);
    await run('mosquitto_pub', [...hp, '-t', `${topic}/json`, '-m', '{"n":[1.5e-7,2]}', '-r']);
    const [theirs, ours] = await both([...hp, '-t', `${topic}/#`, '-C', '2', '-F', '<%t %J>']);
    const lines = (s: string) => s.replace(/"tst":"[^"]*"/g, '"tst":"T"').split('\n').sort();
    expect(ours.code).toBe(0);
    expect({ code: ours.code, out: lines(ours.stdout), err: ours.stderr }).toEqual({ code: theirs.code, out: lines(theirs.stdout), err: theirs.stderr });
    expect(ours.stderr).toBe(`Error: Message payload is not valid JSON on topic ${topic}/text.\n`);
    await Promise.all(['text', 'json'].map((t) => run('mosquitto_pub', [...hp, '-t', `${topic}/${t}`, '-n', '-r'])));
  });

  it('refuses an unknown specifier like mosquitto_sub: its words and its exit code (1)', async () => {
    for (const fmt of ['%z', 'abc%', '\\q']) {
      const [theirs, ours] = await both([...hp, '-t', 'a', '-F', fmt]);
      const words = theirs.stderr.split('\n')[0]!.replace(/^Error: /, '');
      expect({ fmt, theirs: theirs.code, ours: ours.code, err: ours.stderr }).toEqual({ fmt, theirs: 1, ours: 1, err: `Error: ${words}\n\nUse 'atbridge sub --help' to see usage.\n` });
    }
  });

  it('@ times match mosquitto_sub in another time zone', async () => {
    const topic = `time/${uniqueId()}`;
    await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'x', '-r']);
    setTz('Asia/Kolkata'); // both children inherit it
    try {
      // Only what holds for a day: the two runs may straddle a second.
      const fmt = '@Y-@m-@d @a @A @b @B @C @e @g @G @j @u @U @V @w @W @y @z @Z @@';
      const [theirs, ours] = await both([...hp, '-t', topic, '-C', '1', '-F', fmt]);
      expect(ours.stdout).toMatch(/ \+0530 IST @\n$/);
      expect(ours.stdout).toBe(theirs.stdout);
      const [theirsIso, oursIso] = await both([...hp, '-t', topic, '-C', '1', '-F', '%I|%U|@T']);
      const shape = (s: string) => s.replace(/\d/g, '9');
      expect(shape(oursIso.stdout)).toBe(shape(theirsIso.stdout));
      expect(oursIso.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0530\|\d+\.\d{9}\|\d\d:\d\d:\d\d\n$/);
    } finally {
      setTz('UTC');
      await run('mosquitto_pub', [...hp, '-t', topic, '-n', '-r']);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { classifyLine, responsePrefixFor, type CommandContext } from '../../src/at/classify.js';
import { AtFramer, type Frame } from '../../src/at/framer.js';
import { getProfile, type ModuleProfile } from '../../src/profile/index.js';

// Parser unit test (in-process feed is right here; the pty/emulator case is in test/socket).
// A module may announce new data at any time, also between a buffered read's data and its OK:
// that notice must reach the socket as a data-available URC, not be taken as part of the answer.
function classify(profile: ModuleProfile, command: string, bytes: string): { kind: string; text: string; event?: string }[] {
  const frames: Frame[] = [];
  const framer = new AtFramer(profile, (f) => frames.push(f));
  framer.push(Buffer.from(bytes, 'latin1'));
  framer.flush();
  const ctx: CommandContext = { text: command, responsePrefix: responsePrefixFor(command), finals: [], echoPending: false };
  return frames.map((f) => {
    if (f.kind !== 'line') return { kind: f.kind, text: '' };
    const line = classifyLine(f.text, profile, ctx);
    return { kind: line.kind, text: line.text, ...(line.urc ? { event: line.urc.event } : {}) };
  });
}

const cases: { family: string; firmware?: string; command: string; answer: string; notice: string }[] = [
  { family: 'sim7600', command: 'AT+CIPRXGET=2,0,1460', answer: '\r\n+CIPRXGET: 2,0,4,0\r\nPING', notice: '+CIPRXGET: 1,0' },
  { family: 'a76xx', command: 'AT+CIPRXGET=2,0,1460', answer: '\r\n+CIPRXGET: 2,0,4,0\r\nPING', notice: '+CIPRXGET: 1,0' },
  { family: 'sim800', command: 'AT+CIPRXGET=2,1460', answer: '\r\n+CIPRXGET: 2,4,0\r\nPING', notice: '+CIPRXGET: 1' },
  { family: 'sim7080', firmware: 'SIM7000', command: 'AT+CIPRXGET=2,1460', answer: '\r\n+CIPRXGET: 2,4,0\r\nPING', notice: '+CIPRXGET: 1' },
  { family: 'sim7080', command: 'AT+CARECV=0,1460', answer: '\r\n+CARECV: 4,PING', notice: '+CADATAIND: 0' },
  { family: 'quectel', command: 'AT+QIRD=0,1500', answer: '\r\n+QIRD: 4\r\nPING', notice: '+QIURC: "recv",0' },
  { family: 'esp-at', command: 'AT+CIPRECVDATA=1460', answer: '\r\n+CIPRECVDATA:4,PING', notice: '+IPD,4' },
];

describe('a data notice between a buffered read and its OK', () => {
  for (const c of cases) {
    it(`${c.family}${c.firmware ? ` (${c.firmware})` : ''}: ${c.notice} inside ${c.command} is a data-available URC`, () => {
      const base = getProfile(c.family);
      const profile = c.firmware ? base.forFirmware(c.firmware) : base;
      const out = classify(profile, c.command, `${c.answer}\r\n${c.notice}\r\n\r\nOK\r\n`);
      expect(out.find((l) => l.text === c.notice)).toMatchObject({ kind: 'urc', event: 'data-available' });
      expect(out.filter((l) => l.kind === 'block')).toHaveLength(1);
    });
  }

  it('a query still gets its own answer: AT+CIPRXGET? → +CIPRXGET: 1 is the mode, not a notice', () => {
    const out = classify(getProfile('sim800'), 'AT+CIPRXGET?', '\r\n+CIPRXGET: 1\r\n\r\nOK\r\n');
    expect(out.find((l) => l.text === '+CIPRXGET: 1')?.kind).toBe('info');
  });
});

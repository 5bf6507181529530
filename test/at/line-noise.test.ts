import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import { classifyLine } from '../../src/at/classify.js';
import { garbleReason, looksLikeDamagedUrc, type GarbleReason } from '../../src/at/corruption.js';
import { getProfile } from '../../src/profile/index.js';
import { runCommand } from '../../src/modem/run-command.js';
import { startScriptedModule, type ScriptedModule } from '../helpers/scripted-module.js';

/**
 * Line noise as it reaches the AT layer: one flipped bit per damaged byte. A flipped CR or LF
 * does not lose the line, it glues a stray byte (`-`, `M`, `*`, `J`, a control code) to the
 * start or the end of one, or leaves it alone on a line; a flipped '>' is no prompt. Each case
 * is played over a real pty by a module the test scripts, on the bytes the emulator's noise made
 * in the runs that stalled (`\r*+CIPSEND: 0,20,20`, `OK-`, `:` for `>`).
 */
const sim7600 = getProfile('sim7600');

describe('what counts as damage', () => {
  const reason = (text: string, command?: string): GarbleReason | undefined => {
    const context = command ? { text: command, responsePrefix: undefined, finals: sim7600.compileResults(undefined), echoPending: true } : undefined;
    return garbleReason(classifyLine(text, sim7600, context), context, false);
  };

  it('a final with a stray line-end byte stuck to it is a damaged final', () => {
    expect(reason('OK-', 'AT+CSQ')).toBe('final');
    expect(reason('OKM', 'AT+CSQ')).toBe('final');
    expect(reason('*OK', 'AT+CSQ')).toBe('final');
    expect(reason('OK\x05', 'AT+CSQ')).toBe('final');
    expect(reason('ERRORJ', 'AT+CSQ')).toBe('final');
    expect(reason('oK', 'AT+CSQ')).toBe('final');
    expect(reason('OK', 'AT+CSQ')).toBeUndefined();
  });

  it('a stray byte alone on its line is counted as such; sound lines are no damage', () => {
    expect(reason('-')).toBe('stray');
    expect(reason('\x0e', 'AT+CSQ')).toBe('stray');
    expect(reason('+CSQ: 21,99', 'AT+CSQ')).toBeUndefined();
    expect(reason('Manufacturer: SIMCOM INCORPORATED', 'ATI')).toBeUndefined();
    expect(reason('+CPSI: LTE,Online')).toBeUndefined();
  });

  it('the awaited URC with a letter\'s case flipped (+CIPSENd) is the URC damaged', () => {
    const pattern = /^\+CIPSEND: ?0,(?<req>\d+),(?<cnf>-?\d+)$/;
    expect(looksLikeDamagedUrc('+CIPSENd: 0,1084,1084', pattern)).toBe(true);
    expect(looksLikeDamagedUrc('*+CIPSEND: 0,20,20', pattern)).toBe(true);
    expect(looksLikeDamagedUrc('+CIPSEND: 0,20,20', pattern)).toBe(false);
  });

  it('the echo with a stray byte is a damaged echo', () => {
    expect(reason('*AT+CSQ', 'AT+CSQ')).toBe('echo');
    expect(reason('AT+CSP', 'AT+CSQ')).toBe('echo');
  });
});

let mod: ScriptedModule;
let channel: AtChannel;

beforeEach(async () => {
  mod = await startScriptedModule();
  channel = new AtChannel(mod.host, sim7600, { resyncQuietMs: 20 });
});

afterEach(async () => {
  channel.detach();
  await mod.close();
});

/** A module that answers `CSQ` with `first` once, then cleanly; every other line with OK. */
function csqAnswers(first: string): void {
  let n = 0;
  mod.handler = (line, say) => {
    if (line !== 'AT+CSQ') return say('\r\nOK\r\n');
    say(n++ === 0 ? first : '\r\n+CSQ: 21,99\r\n\r\nOK\r\n');
  };
}

describe('AtChannel on a noisy line', () => {
  it('a final with its CR flipped (OK-) fails the command at once as garbled, not after its timeout', async () => {
    csqAnswers('\r\n+CSQ: 21,99\r\nOK-\n');
    const garbled: string[] = [];
    channel.on('garbled', (_l: string, why: string) => garbled.push(why));
    await expect(channel.send('AT+CSQ', { timeoutMs: 60_000 })).rejects.toMatchObject({ atCode: 'garbled' });
    expect(garbled).toEqual(['final']);
    // A resync first, then the next command is answered by its own answer.
    expect((await channel.sendOk('AT+CSQ')).lines).toEqual(['+CSQ: 21,99']);
    expect(mod.seen).toEqual(['AT+CSQ', 'AT', 'AT+CSQ']);
  });

  it('the awaited URC with its LF flipped (\\r*+CIPSEND: …) fails the send at once, not after 120 s', async () => {
    mod.handler = (line, say) => {
      if (!line.startsWith('AT+CIPSEND=')) return say('\r\nOK\r\n');
      mod.rawSink = () => {
        mod.rawSink = undefined;
        say('\r\nOK\r\n\r*+CIPSEND: 0,3,3\r\n');
      };
      say('\r\n>');
    };
    const spec = sim7600.command('socketSend');
    const awaitUrc = { pattern: /^\+CIPSEND: ?0,(?<req>\d+),(?<cnf>-?\d+)$/, timeoutMs: 120_000 };
    const err = await channel.send('AT+CIPSEND=0,3', { prompt: true, data: Buffer.from('abc'), dataFinals: spec.dataFinals!, awaitUrc }).catch((e: unknown) => e);
    expect(err).toMatchObject({ atCode: 'garbled' });
  });

  it('a stray byte alone before the awaited URC does not end the command: the URC after it does', async () => {
    mod.handler = (_line, say) => say('\r\nOK\r\n-\n+NETOPEN: 0\r\n');
    const res = await channel.sendOk('AT+NETOPEN', { awaitUrc: { pattern: /^\+NETOPEN: ?(?<err>\d+)$/, timeoutMs: 60_000 } });
    expect(res.urc?.groups).toEqual({ err: '0' });
    expect(channel.lineHealth.byReason.stray).toBe(1);
  });

  it('a prompt one bit off (: for >) is the prompt: the data goes, and the send completes', async () => {
    const got: Buffer[] = [];
    mod.handler = (line, say) => {
      if (!line.startsWith('AT+CIPSEND=')) return say('\r\nOK\r\n');
      mod.rawSink = (chunk) => {
        got.push(chunk);
        mod.rawSink = undefined;
        say('\r\nOK\r\n\r\n+CIPSEND: 0,3,3\r\n');
      };
      say('\r\n:');
    };
    const awaitUrc = { pattern: /^\+CIPSEND: ?0,(?<req>\d+),(?<cnf>-?\d+)$/, timeoutMs: 60_000 };
    const res = await channel.sendOk('AT+CIPSEND=0,3', { prompt: true, data: Buffer.from('abc'), dataFinals: sim7600.command('socketSend').dataFinals!, awaitUrc, timeoutMs: 60_000 });
    expect(res.urc?.groups).toMatchObject({ cnf: '3' });
    expect(Buffer.concat(got).toString()).toBe('abc');
    expect(channel.lineHealth.byReason.prompt).toBe(1);
  });

  it('a damaged echo: the module may have heard another command, so its answer fails as garbled; the next one is clean', async () => {
    let n = 0;
    mod.handler = (line, say) => line === 'AT+CSQ' && say(`${n++ === 0 ? 'AT+CSP' : 'AT+CSQ'}\r\r\n+CSQ: 21,99\r\n\r\nOK\r\n`);
    await expect(channel.send('AT+CSQ')).rejects.toMatchObject({ atCode: 'garbled' });
    expect(channel.lineHealth.byReason.echo).toBe(1);
    const res = await channel.sendOk('AT+CSQ');
    expect(res.lines).toEqual(['+CSQ: 21,99']);
  });

  it('a timeout after silence on a clean line is a timeout; with damaged lines heard (then or lately) it is garbled', async () => {
    mod.handler = () => undefined;
    await expect(channel.send('AT+CSQ', { timeoutMs: 150 })).rejects.toMatchObject({ atCode: 'timeout' });
    mod.handler = (line, say) => line === 'AT+CSQ' && say('\r\n+CSQ: 2\xb1,99\r\n');
    await expect(channel.send('AT+CSQ', { timeoutMs: 150 })).rejects.toMatchObject({ atCode: 'garbled' });
    // Silence now, but the line was corrupting data a moment ago: the command's CR may have been hit.
    mod.handler = () => undefined;
    await expect(channel.send('AT+CSQ', { timeoutMs: 150 })).rejects.toMatchObject({ atCode: 'garbled' });
  });
});

describe('runCommand on a noisy line', () => {
  it('a bring-up step whose answer arrived damaged is sent again and succeeds', async () => {
    csqAnswers('\r\n+CSQ: 21,99\r\nOK-\n');
    const res = await runCommand(channel, sim7600, 'signal', {}, { garbledRetries: 2 });
    expect(res.groups.rssi).toBe('21');
    expect(mod.seen.filter((l) => l === 'AT+CSQ')).toHaveLength(2);
  });

  it('without retries asked for, or for a command that carries data, a damaged answer fails once', async () => {
    csqAnswers('\r\n+CSQ: 21,99\r\nOK-\n');
    await expect(runCommand(channel, sim7600, 'signal', {})).rejects.toMatchObject({ atCode: 'garbled' });
    let sends = 0;
    mod.handler = (line, say) => {
      if (!line.startsWith('AT+CIPSEND=')) return say('\r\nOK\r\n');
      sends++;
      mod.rawSink = () => {
        mod.rawSink = undefined;
        say('\r\nOK-\n');
      };
      say('\r\n>');
    };
    await expect(runCommand(channel, sim7600, 'socketSend', { link: 0, len: 3 }, { data: Buffer.from('abc'), garbledRetries: 2 })).rejects.toMatchObject({ atCode: 'garbled' });
    expect(sends).toBe(1);
  });
});

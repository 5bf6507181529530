import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll, run, messageLines, subscriber } from './cli-support.js';
import { uniqueId } from './support.js';

let broker: Mosquitto;
let authBroker: Mosquitto;
let hp: string[];

beforeAll(async () => {
  [broker, authBroker] = await Promise.all([
    startMosquitto({ persistence: false }),
    startMosquitto({ auth: { username: 'alice', password: 'wonderland' }, persistence: false }),
  ]);
  hp = ['-h', '127.0.0.1', '-p', String(broker.port)];
});
afterAll(async () => {
  killAll();
  await Promise.all([broker?.stop(), authBroker?.stop()]);
});

describe.runIf(cliBuilt())('atbridge pub and sub behave like mosquitto_pub and mosquitto_sub', () => {
  it('prints -F, -v, -N and JSON output byte for byte like mosquitto_sub', async () => {
    const topic = `fmt/${uniqueId()}`;
    await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'hello world', '-r', '-q', '1']);
    const formats = [['-F', '%t|%p|%q|%r|%l|%x|%X|%%'], ['-v'], ['-N'], ['-F', '%t\\t%p'], []];
    for (const extra of formats) {
      const args = [...hp, '-t', topic, '-C', '1', ...extra];
      const [theirs, ours] = await Promise.all([run('mosquitto_sub', args), atbridge(['sub', ...args])]);
      expect({ extra, out: ours.stdout, code: ours.code }).toEqual({ extra, out: theirs.stdout, code: theirs.code });
    }
    // JSON carries a timestamp: compare everything else.
    const args = [...hp, '-t', topic, '-C', '1', '-F', '%j'];
    const [theirs, ours] = await Promise.all([run('mosquitto_sub', args), atbridge(['sub', ...args])]);
    const strip = (s: string) => ({ ...(JSON.parse(s) as Record<string, unknown>), tst: 'x' });
    expect(strip(ours.stdout)).toEqual(strip(theirs.stdout));
    const pretty = await atbridge(['sub', ...args, '--pretty']);
    expect(pretty.stdout).toMatch(/^\{\n\t"tst":\t"/);
    await run('mosquitto_pub', [...hp, '-t', topic, '-n', '-r']);
  });

  it('-R skips retained messages, --retained-only stops at the first live one, --remove-retained clears', async () => {
    const topic = `ret/${uniqueId()}`;
    await run('mosquitto_pub', [...hp, '-t', `${topic}/a`, '-m', 'old', '-r']);
    const skip = await subscriber('atbridge', [...hp, '-t', `${topic}/#`, '-R', '-C', '1']);
    await run('mosquitto_pub', [...hp, '-t', `${topic}/b`, '-m', 'live']);
    expect(await skip.exited).toBe(0);
    expect(messageLines(skip.stdout())).toEqual(['live']);

    const only = await subscriber('atbridge', [...hp, '-t', `${topic}/#`, '--retained-only', '--remove-retained']);
    await run('mosquitto_pub', [...hp, '-t', `${topic}/c`, '-m', 'live']);
    expect(await only.exited).toBe(0);
    expect(messageLines(only.stdout())).toEqual(['old']);
    const after = await run('mosquitto_sub', [...hp, '-t', `${topic}/#`, '--retained-only', '-W', '1']);
    expect(after.stdout).toBe('');
  });

  it('-T filters out, -E exits after subscribing, -W times out with 27 like mosquitto_sub', async () => {
    const topic = `t/${uniqueId()}`;
    const ours = await subscriber('atbridge', [...hp, '-t', `${topic}/#`, '-T', `${topic}/noise`, '-C', '1']);
    await run('mosquitto_pub', [...hp, '-t', `${topic}/noise`, '-m', 'n']);
    await run('mosquitto_pub', [...hp, '-t', `${topic}/signal`, '-m', 's']);
    expect(await ours.exited).toBe(0);
    expect(messageLines(ours.stdout())).toEqual(['s']);
    for (const extra of [['-E'], ['-W', '1']]) {
      const args = [...hp, '-t', topic, ...extra];
      const [theirs, mine] = await Promise.all([run('mosquitto_sub', args), atbridge(['sub', ...args])]);
      expect({ extra, code: mine.code }).toEqual({ extra, code: theirs.code });
    }
  });

  it('exits with the codes mosquitto_pub and mosquitto_sub use', async () => {
    const closedPort = String(broker.port === 1 ? 2 : 1);
    const auth = ['-h', '127.0.0.1', '-p', String(authBroker.port)];
    const cases: { args: string[]; same: boolean }[] = [
      { args: ['-h', '127.0.0.1', '-p', closedPort, '-t', 'a', '-m', 'x'], same: true },
      { args: [...auth, '-t', 'a', '-m', 'x', '-u', 'alice', '-P', 'wrong'], same: true },
      { args: [...auth, '-t', 'a', '-m', 'x', '-u', 'alice', '-P', 'wrong', '-V', 'mqttv5'], same: true },
      { args: [...auth, '-t', 'a', '-m', 'x', '-u', 'alice', '-P', 'wonderland'], same: true },
      // Usage errors: mosquitto's exit code (1) and its message (pub, sub and rr follow mosquitto here).
      { args: [...hp, '-t', 'a/#', '-m', 'x'], same: true },
      { args: [...hp, '-t', 'a', '-m', 'x', '-q', '3'], same: true },
      { args: [...hp, '-t', 'a', '-m', 'x', '-c'], same: true },
      { args: [...hp, '-t', 'a'], same: true },
    ];
    for (const { args } of cases) {
      const [theirs, ours] = await Promise.all([run('mosquitto_pub', args), atbridge(['pub', ...args])]);
      expect({ args, code: ours.code }).toEqual({ args, code: theirs.code });
      expect(ours.stderr).not.toMatch(/\n\s+at /); // no stack trace
      if (theirs.code === 1 && /Use 'mosquitto_pub --help'/.test(theirs.stderr)) {
        expect(ours.stderr).toBe(theirs.stderr.replace('mosquitto_pub --help', 'atbridge pub --help'));
      }
    }
    const subCases = [[...auth, '-t', 'a', '-u', 'alice', '-P', 'wrong'], ['-h', '127.0.0.1', '-p', closedPort, '-t', 'a']];
    for (const args of subCases) {
      const [theirs, ours] = await Promise.all([run('mosquitto_sub', args), atbridge(['sub', ...args])]);
      expect({ args, code: ours.code }).toEqual({ args, code: theirs.code });
    }
  });

  it('-d prints packets like mosquitto_pub -d and never the password', async () => {
    const auth = ['-h', '127.0.0.1', '-p', String(authBroker.port), '-u', 'alice', '-P', 'wonderland'];
    const args = [...auth, '-t', 'dbg', '-m', 'hello', '-q', '2', '-d', '-i', 'dbg-client'];
    const [theirs, ours] = await Promise.all([run('mosquitto_pub', args), atbridge(['pub', ...args])]);
    expect(ours.code).toBe(0);
    const shape = (s: string) => s.split('\n').filter(Boolean).map((l) => l.replace(/RC:\d+/, 'RC'));
    expect(shape(ours.stdout)).toEqual(shape(theirs.stdout));
    expect(ours.stdout + ours.stderr).not.toContain('wonder');
  });
});

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

describe.runIf(cliBuilt())('atbridge pub and sub against mosquitto and its clients', () => {
  it.each([0, 1, 2])('atbridge pub -q %i reaches mosquitto_sub, and mosquitto_pub reaches atbridge sub', async (qos) => {
    const topic = `cli/${uniqueId()}`;
    const theirs = await subscriber('mosquitto', [...hp, '-t', topic, '-q', String(qos), '-C', '2', '-v']);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-m', 'from atbridge', '-q', String(qos)])).code).toBe(0);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-m', 'and again', '-q', String(qos), '-V', 'mqttv5'])).code).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout())).toEqual([`${topic} from atbridge`, `${topic} and again`]);

    const ours = await subscriber('atbridge', [...hp, '-t', topic, '-q', String(qos), '-C', '2', '-v']);
    expect((await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'from mosquitto', '-q', String(qos)])).code).toBe(0);
    expect((await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'v5 too', '-q', String(qos), '-V', 'mqttv5'])).code).toBe(0);
    expect(await ours.exited).toBe(0);
    expect(messageLines(ours.stdout())).toEqual([`${topic} from mosquitto`, `${topic} v5 too`]);
  });

  it('the broker publishes the will when atbridge sub is killed, not when it exits normally', async () => {
    const topic = `will/${uniqueId()}`;
    const watcher = await subscriber('mosquitto', [...hp, '-t', topic, '-C', '1']);
    const polite = await subscriber('atbridge', [...hp, '-t', 'nothing', '--will-topic', topic, '--will-payload', 'polite', '-E']);
    expect(await polite.exited).toBe(0);
    const dying = await subscriber('atbridge', [...hp, '-t', 'nothing', '--will-topic', topic, '--will-payload', 'gone', '--will-qos', '1']);
    dying.child.kill('SIGKILL');
    expect(await watcher.exited).toBe(0);
    expect(messageLines(watcher.stdout())).toEqual(['gone']);
  });

  it('sub -c keeps a persistent session: messages published while it is away arrive on the next run', async () => {
    const topic = `away/${uniqueId()}`;
    const id = uniqueId('persist');
    const session = [...hp, '-c', '-i', id, '-q', '1'];
    expect((await atbridge(['sub', ...session, '-t', topic, '-E'])).code).toBe(0);
    await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'while away 1', '-q', '1']);
    await run('mosquitto_pub', [...hp, '-t', topic, '-m', 'while away 2', '-q', '1']);
    const back = await atbridge(['sub', ...session, '-t', topic, '-C', '2']);
    expect(back).toMatchObject({ code: 0, stdout: 'while away 1\nwhile away 2\n' });
    expect((await atbridge(['sub', ...session, '-U', topic, '-E'])).code).toBe(0);
  });

  it('-L takes host, port, credentials and topic from a URL', async () => {
    const topic = `url/${uniqueId()}`;
    const url = `mqtt://alice:wonderland@127.0.0.1:${authBroker.port}/${topic}`;
    const theirs = await subscriber('mosquitto', ['-L', url, '-C', '1']);
    expect((await atbridge(['pub', '-L', url, '-m', 'via url'])).code).toBe(0);
    expect(await theirs.exited).toBe(0);
    expect(messageLines(theirs.stdout())).toEqual(['via url']);
  });

  it('--repeat publishes N times; -l sends one message per line, empty lines included; -s and -f send it whole', async () => {
    const topic = `rep/${uniqueId()}`;
    const theirs = await subscriber('mosquitto', [...hp, '-t', topic, '-C', '7', '-F', '[%p]']);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-m', 'r', '--repeat', '2', '--repeat-delay', '0.01'])).code).toBe(0);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-l', '-q', '1'], { stdin: 'one\n\nthree\n' })).code).toBe(0);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-s'], { stdin: 'a\nb' })).code).toBe(0);
    expect((await atbridge(['pub', ...hp, '-t', topic, '-f', '/etc/hostname'])).code).toBe(0);
    expect(await theirs.exited).toBe(0);
    const lines = messageLines(theirs.stdout());
    expect(lines.slice(0, 5)).toEqual(['[r]', '[r]', '[one]', '[]', '[three]']);
    expect(lines.slice(5, 7)).toEqual(['[a', 'b]']);
  });
});

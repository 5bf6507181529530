import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableQueue } from '../../src/mqtt/durable-queue.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-queue-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const message = (topic: string, text: string, qos: 1 | 2 = 1) => ({ topic, payload: Buffer.from(text), qos, retain: false });
const summary = (q: DurableQueue) => [...q.messages()].map((m) => `${m.seq}:${m.topic}:${m.payload.toString()}:${m.state}:${m.packetId ?? '-'}`);

describe('DurableQueue', () => {
  it('brings back unacknowledged messages in order, with their flow state and packet ids', () => {
    const dir = tempDir();
    const q = DurableQueue.open({ dir, fsync: 'never' });
    const a = q.append(message('t/a', 'a'));
    const b = q.append(message('t/b', 'b', 2));
    const c = q.append(message('t/c', 'c', 2));
    q.append({ ...message('t/d', 'd'), properties: { contentType: 'text/plain', correlationData: Buffer.from([1, 2]) } });
    q.markSent(a.seq, 7);
    q.markSent(b.seq, 8);
    q.markReleased(b.seq);
    q.markSent(c.seq, 9);
    q.ack(a.seq);
    q.close();
    const again = DurableQueue.open({ dir, fsync: 'never' });
    expect(summary(again)).toEqual(['2:t/b:b:released:8', '3:t/c:c:sent:9', '4:t/d:d:new:-']);
    expect([...again.messages()][2]?.properties).toEqual({ contentType: 'text/plain', correlationData: Buffer.from([1, 2]) });
    expect(again.append(message('t/e', 'e')).seq).toBe(5);
    again.close();
  });

  it('cuts off a record torn by kill -9 mid-write and keeps every whole one', () => {
    const dir = tempDir();
    const q = DurableQueue.open({ dir, fsync: 'never' });
    for (let i = 0; i < 10; i++) q.append(message('t', String(i)));
    // Simulate a crash: no close(), and half a record at the end of the log.
    const log = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, log), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 1, 0, 0]));
    const sizeBefore = statSync(join(dir, log)).size;
    const again = DurableQueue.open({ dir, fsync: 'never' });
    expect(again.recoveredDamage.tornRecords).toBe(1);
    expect(statSync(join(dir, log)).size).toBe(sizeBefore - 11);
    expect([...again.messages()].map((m) => m.payload.toString())).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    again.append(message('t', 'after'));
    again.close();
    expect(DurableQueue.open({ dir, fsync: 'never' }).size).toBe(11);
  });

  it('drops the oldest unsent messages beyond its bounds, counts them, and never drops one in flight', () => {
    const dir = tempDir();
    const q = DurableQueue.open({ dir, maxMessages: 3, fsync: 'never' });
    const dropped: string[] = [];
    q.on('drop', (m, reason) => dropped.push(`${m.payload.toString()}:${reason}`));
    const first = q.append(message('t', '0'));
    q.markSent(first.seq, 1);
    for (let i = 1; i <= 4; i++) q.append(message('t', String(i)));
    expect([...q.messages()].map((m) => m.payload.toString())).toEqual(['0', '3', '4']);
    expect(dropped).toEqual(['1:count', '2:count']);
    expect(q.stats()).toMatchObject({ messages: 3, dropped: 2, appended: 5 });
    q.close();
    expect(summary(DurableQueue.open({ dir, fsync: 'never' })).map((s) => s.split(':')[2])).toEqual(['0', '3', '4']);
  });

  it('drops messages older than maxAgeMs', () => {
    let now = 1000;
    const q = DurableQueue.open({ dir: tempDir(), maxAgeMs: 500, now: () => now, fsync: 'never' });
    q.append(message('t', 'old'));
    now = 1400;
    q.append(message('t', 'young'));
    now = 1600;
    expect([...q.messages()].map((m) => m.payload.toString())).toEqual(['young']);
    expect(q.stats().dropped).toBe(1);
    q.close();
  });

  it('rotates log files and deletes the old ones once all their messages are done', () => {
    const dir = tempDir();
    const q = DurableQueue.open({ dir, segmentBytes: 2000, fsync: 'never' });
    const seqs = Array.from({ length: 100 }, (_, i) => q.append(message('topic', `payload ${i}`.padEnd(50, '.'))).seq);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(2);
    for (const seq of seqs.slice(0, 99)) q.ack(seq);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBe(1);
    q.close();
    const again = DurableQueue.open({ dir, fsync: 'never' });
    expect([...again.messages()].map((m) => m.seq)).toEqual([100]);
    again.close();
  });

  it('refuses a second live owner of the same directory', () => {
    const dir = tempDir();
    const q = DurableQueue.open({ dir, fsync: 'never' });
    // Our own pid counts as "stale" (a restart within one process), so fake a live other owner.
    writeFileSync(join(dir, 'LOCK'), String(process.ppid));
    expect(() => DurableQueue.open({ dir, fsync: 'never' })).toThrow(/in use by process/);
    q.close();
  });
});

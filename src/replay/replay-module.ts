import { EventEmitter } from 'node:events';
import { printable } from '../decode/printable.js';
import { redactCommandLine } from '../trace/redact.js';
import type { ReplayScript, ReplayStep, Reply } from './script.js';

export interface Divergence {
  /** Step number (1-based) in the recording. */
  step: number;
  kind: 'different-command' | 'skipped' | 'unexpected' | 'different-payload';
  expected?: string;
  got?: string;
}

export interface ReplayModuleOptions {
  /** 2 plays twice as fast; 0 answers at once. */
  speed: number;
}

/**
 * Acts as the recorded module: reads the live host's bytes, matches each command against the
 * recording and answers with the recorded bytes at the recorded pace. When the host goes its own
 * way it says so (events 'match', 'diverge'), skips ahead to a later step that matches, or
 * answers ERROR when the recording has nothing like it. Emits 'done' after the last step.
 */
export class ReplayModule extends EventEmitter {
  private next = 0;
  private carry = '';
  private payload: Buffer[] = [];
  private payloadBytes = 0;
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  readonly divergences: Divergence[] = [];

  constructor(
    private readonly script: ReplayScript,
    private readonly write: (data: Buffer) => void,
    private readonly options: ReplayModuleOptions = { speed: 1 },
  ) {
    super();
  }

  /** Plays the banner (what the module said before the first command). */
  start(): void {
    this.play(this.script.banner, () => this.checkDone());
  }

  get finished(): boolean {
    return this.next >= this.script.steps.length;
  }

  /** Bytes from the live host. */
  input(data: Buffer): void {
    let rest = data;
    while (rest.length > 0 && !this.closed) {
      const step = this.script.steps[this.next];
      if (step?.kind === 'data') {
        const take = Math.min(step.host.length - this.payloadBytes, rest.length);
        this.payload.push(rest.subarray(0, take));
        this.payloadBytes += take;
        rest = rest.subarray(take);
        if (this.payloadBytes >= step.host.length) {
          const got = Buffer.concat(this.payload);
          this.payload = [];
          this.payloadBytes = 0;
          if (!got.equals(step.host)) this.diverge({ step: this.next + 1, kind: 'different-payload', expected: printable(step.host, 60), got: printable(got, 60) });
          else this.emit('match', this.next + 1, step);
          this.answer(step);
        }
        continue;
      }
      const text = this.carry + rest.toString('latin1');
      rest = Buffer.alloc(0);
      const parts = text.split(/\r\n|\r|\n/);
      this.carry = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) this.onCommand(line.trim());
    }
  }

  private onCommand(raw: string): void {
    const at = this.next;
    // Recordings mask passwords (ours at write time, decode's on display), one '*' per byte:
    // compare the masked forms, whatever the secret's length.
    const line = redactCommandLine(raw);
    const key = (text: string) => redactCommandLine(text).replace(/\*+/g, '*').toUpperCase();
    const same = (s: ReplayStep | undefined) => s?.kind === 'command' && key(s.text) === key(line);
    if (same(this.script.steps[at])) {
      this.emit('match', at + 1, this.script.steps[at]);
      this.answer(this.script.steps[at]!);
      return;
    }
    const ahead = this.script.steps.findIndex((s, i) => i > at && same(s));
    if (ahead > 0) {
      for (let i = at; i < ahead; i++) this.diverge({ step: i + 1, kind: 'skipped', expected: this.script.steps[i]!.text });
      this.next = ahead;
      this.emit('match', ahead + 1, this.script.steps[ahead]);
      this.answer(this.script.steps[ahead]!);
      return;
    }
    const expected = this.script.steps[at];
    this.diverge({ step: at + 1, kind: expected ? 'different-command' : 'unexpected', ...(expected ? { expected: expected.text } : {}), got: line });
    this.write(Buffer.from(`\r\nERROR\r\n`, 'latin1'));
  }

  private answer(step: ReplayStep): void {
    this.next++;
    this.play(step.replies, () => this.checkDone());
  }

  private play(replies: Reply[], then: () => void): void {
    if (replies.length === 0) return then();
    let pending = replies.length;
    for (const reply of replies) {
      const delay = this.options.speed > 0 ? reply.delayMs / this.options.speed : 0;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closed) this.write(reply.data);
        if (--pending === 0) then();
      }, delay);
      this.timers.add(timer);
    }
  }

  private checkDone(): void {
    if (this.finished && this.timers.size === 0) this.emit('done');
  }

  private diverge(d: Divergence): void {
    this.divergences.push(d);
    this.emit('diverge', d);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

import { EventEmitter } from 'node:events';
import { printable } from '../decode/printable.js';
import { sendRequestOf } from '../decode/send-request.js';
import { listProfileIds, loadProfile } from '../profile/index.js';
import { redactCommandLine } from '../trace/redact.js';
import { autoConnect, packetLength, samePayload } from './mqtt-match.js';
import { stepLabel, type ReplayScript, type ReplayStep, type Reply } from './script.js';

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
        // Until the length of a CONNECT with a made-up client id is known, take a byte at a time.
        const want = this.payloadLength(step) ?? this.payloadBytes + 1;
        const take = Math.min(want - this.payloadBytes, rest.length);
        this.payload.push(rest.subarray(0, take));
        this.payloadBytes += take;
        rest = rest.subarray(take);
        if (this.payloadBytes >= (this.payloadLength(step) ?? Infinity)) {
          const got = Buffer.concat(this.payload);
          this.payload = [];
          this.payloadBytes = 0;
          if (!samePayload(step.host, got)) this.diverge({ step: this.next + 1, kind: 'different-payload', expected: printable(step.host, 60), got: printable(got, 60) });
          else this.emit('match', this.next + 1, step);
          this.answer(step, got.length !== step.host.length ? { from: step.host.length, to: got.length } : undefined);
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

  /**
   * Bytes the host's payload for a data step will have: the recorded count, except that a
   * CONNECT with a made-up client id (mqtt-match.ts) may be longer or shorter: its own header
   * says how long (undefined until that header is in).
   */
  private payloadLength(step: ReplayStep): number | undefined {
    const recorded = autoConnect(step.host);
    if (recorded === undefined) return step.host.length;
    const head = Buffer.concat(this.payload);
    if (head.length > 0 && head[0] !== 0x10) return step.host.length;
    const live = packetLength(head);
    return live === undefined ? undefined : step.host.length - recorded.length + live;
  }

  private onCommand(raw: string): void {
    const at = this.next;
    // Recordings mask passwords (ours at write time, decode's on display), one '*' per byte:
    // compare the masked forms, whatever the secret's length.
    const line = redactCommandLine(raw);
    const key = (text: string) => redactCommandLine(text).replace(/\*+/g, '*').toUpperCase();
    // The send that carries a CONNECT with a made-up client id may announce another length,
    // not less than that CONNECT with an empty id.
    const sendKey = (text: string) => key(text).replace(/\d+\s*$/, '#');
    const liveLength = sendRequestOf(line)?.length;
    const same = (s: ReplayStep | undefined, i: number) => {
      if (s?.kind !== 'command') return false;
      if (key(s.text) === key(line)) return true;
      const next = this.script.steps[i + 1];
      const auto = next?.kind === 'data' ? autoConnect(next.host) : undefined;
      return auto !== undefined && liveLength !== undefined && liveLength >= next!.host.length - auto.idBytes && sendKey(s.text) === sendKey(line);
    };
    if (same(this.script.steps[at], at)) {
      this.emit('match', at + 1, this.script.steps[at]);
      this.answer(this.script.steps[at]!);
      return;
    }
    const ahead = this.script.steps.findIndex((s, i) => i > at && same(s, i));
    if (ahead > 0) {
      for (let i = at; i < ahead; i++) this.diverge({ step: i + 1, kind: 'skipped', expected: stepLabel(this.script.steps[i]!) });
      this.next = ahead;
      this.emit('match', ahead + 1, this.script.steps[ahead]);
      this.answer(this.script.steps[ahead]!);
      return;
    }
    const expected = this.script.steps[at];
    this.diverge({ step: at + 1, kind: expected ? 'different-command' : 'unexpected', ...(expected ? { expected: stepLabel(expected) } : {}), got: line });
    this.write(Buffer.from(`\r\nERROR\r\n`, 'latin1'));
  }

  /** Plays a step's recorded answer; `resized`: the host sent another number of bytes than recorded. */
  private answer(step: ReplayStep, resized?: { from: number; to: number }): void {
    this.next++;
    const replies = resized ? step.replies.map((r) => ({ ...r, data: confirmLength(r.data, resized.from, resized.to) })) : step.replies;
    this.play(replies, () => this.checkDone());
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

/**
 * The module's send confirmation names the byte count, and a host checks it: when the host's
 * CONNECT has another length than the recorded one, confirm the host's count. Which lines those
 * are is profile data: the URCs of event `send-confirm` / `send-progress` and their byte-count
 * groups (`len`, `req`, `cnf`), over every shipped profile (SIMCom's `+CIPSEND: <link>,<req>,<cnf>`,
 * ESP-AT's `Recv <n> bytes`, SIM7080's `+CASEND: <cid>,<result>,<len>`).
 */
function confirmLength(data: Buffer, from: number, to: number): Buffer {
  const text = data.toString('latin1');
  const lines = text.split(/(\r?\n)/);
  let changed = false;
  for (let i = 0; i < lines.length; i += 2) {
    const line = lines[i]!;
    for (const re of confirmPatterns()) {
      const m = re.exec(line);
      if (!m?.indices?.groups) continue;
      let out = line;
      // Right to left, so earlier positions stay valid.
      const spans = COUNT_GROUPS.map((g) => ({ g, at: m.indices!.groups![g] })).filter((x) => x.at && m.groups![x.g] === String(from)).sort((a, b) => b.at![0] - a.at![0]);
      for (const { at } of spans) out = out.slice(0, at![0]) + String(to) + out.slice(at![1]);
      if (out !== line) {
        lines[i] = out;
        changed = true;
      }
      break;
    }
  }
  return changed ? Buffer.from(lines.join(''), 'latin1') : data;
}

const COUNT_GROUPS = ['len', 'req', 'cnf'];
let confirms: RegExp[] | undefined;

function confirmPatterns(): RegExp[] {
  if (confirms) return confirms;
  const seen = new Set<string>();
  for (const id of listProfileIds()) {
    for (const u of loadProfile(id).urcs) {
      if (u.event !== 'send-confirm' && u.event !== 'send-progress') continue;
      if (!COUNT_GROUPS.some((g) => u.pattern.includes(`(?<${g}>`))) continue;
      seen.add(u.pattern);
    }
  }
  confirms = [...seen].map((p) => new RegExp(p, 'd'));
  return confirms;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/at/channel.js';
import type { ClassifiedLine } from '../../src/at/classify.js';
import { startEmulator } from '../../src/emulator/index.js';
import { getProfile } from '../../src/profile/index.js';
import { startEchoServer } from '../helpers/echo-server.js';

/**
 * Conversations transcribed from the field logs (fixtures/logs, cited in each file) replayed
 * against the emulator: every answer must have the shape the real module gave.
 */
interface Step {
  send?: string;
  prompt?: boolean;
  data?: string;
  final?: string;
  lines?: string[];
  urcs?: string[];
  expectPushed?: string;
}

const dir = 'fixtures/fidelity';
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(files)('%s', (file) => {
  const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { profile: 'sim7600' | 'esp-at'; steps: Step[] };
  it('the emulator answers each step as the module in the log did', async () => {
    const echo = await startEchoServer();
    const emu = startEmulator({ profile: spec.profile, pacing: false });
    const channel = new AtChannel(emu.link, getProfile(spec.profile));
    const heard: ClassifiedLine[] = [];
    const pushed: Buffer[] = [];
    channel.on('line', (l: ClassifiedLine) => {
      if (l.kind !== 'echo' && l.text.trim() !== '') heard.push(l);
    });
    channel.on('block', (b: { data: Buffer }) => pushed.push(b.data));
    try {
      for (const step of spec.steps) {
        if (step.expectPushed !== undefined) {
          const deadline = Date.now() + 5000;
          while (Buffer.concat(pushed).toString('latin1') !== step.expectPushed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          expect(Buffer.concat(pushed).toString('latin1')).toBe(step.expectPushed);
          pushed.length = 0;
          continue;
        }
        const text = step.send!.replace('{host}', '127.0.0.1').replace('{port}', String(echo.port));
        heard.length = 0;
        const res = await channel.send(text, {
          timeoutMs: 5000,
          ...(step.prompt ? { prompt: true, data: Buffer.from(step.data ?? '', 'latin1'), dataFinals: [{ pattern: '^(?:OK|SEND OK)$', outcome: 'ok' as const }, { pattern: '^(?:ERROR|SEND FAIL)$', outcome: 'error' as const }] } : {}),
        });
        // URCs that complete a command come just after its final.
        await new Promise((r) => setTimeout(r, 60));
        if (step.final !== undefined) expect(res.final, text).toBe(step.final);
        const said = heard.map((l) => l.text.trim()).filter((t) => t !== res.final);
        let at = 0;
        for (const pattern of [...(step.lines ?? []), ...(step.urcs ?? [])]) {
          const re = new RegExp(pattern);
          const found = said.findIndex((t, i) => i >= at && re.test(t));
          expect(found, `${text}: expected a line like ${pattern} in ${JSON.stringify(said)}`).toBeGreaterThanOrEqual(0);
          at = found + 1;
        }
      }
    } finally {
      channel.detach();
      await emu.close();
      await echo.close();
    }
  });
});

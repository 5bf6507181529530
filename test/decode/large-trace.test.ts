import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeCapture } from '../../src/decode/decode-capture.js';
import { generateTrace } from './generate-trace.js';

it('decodes a large generated trace in constant memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atb-large-'));
  const path = join(dir, 'large.jsonl');
  try {
    await generateTrace(path, 24 * 1024 * 1024);
    expect(statSync(path).size).toBeGreaterThan(24 * 1024 * 1024);
    const decoded = await decodeCapture(path);
    let entries = 0;
    let publishes = 0;
    let peak = 0;
    let baseline = 0;
    for await (const e of decoded.entries) {
      entries++;
      if (e.mqtt?.[0]?.type === 'PUBLISH') publishes++;
      if (entries === 20_000) {
        globalThis.gc?.();
        baseline = process.memoryUsage().heapUsed;
      }
      if (entries % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(publishes).toBeGreaterThan(50_000);
    // Nothing accumulates: the heap stays within a few tens of MB of where it was early on.
    expect(peak - baseline).toBeLessThan(96 * 1024 * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

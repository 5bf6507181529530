import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { atbridge, cliBuilt, killAll } from '../mqtt/cli-support.js';
import type { ProbeResult } from '../../src/probe/result.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let broker: Mosquitto;
let dir: string;
beforeAll(async () => {
  broker = await startMosquitto({ persistence: false });
  dir = mkdtempSync(join(tmpdir(), 'atbridge-probe-html-'));
});
afterAll(async () => {
  killAll();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(cliBuilt() && existsSync(CHROMIUM))('probe --html in headless Chromium', () => {
  it('the page is self-contained, renders, and both plots have the run\'s data', async () => {
    const page = join(dir, 'probe.html');
    const res = await atbridge(['probe', '--device', 'emu:sim7600?pacing=0', '-h', '127.0.0.1', '-p', String(broker.port), '--count', '25', '--rate', '100', '-q', '0,1', '--html', page, '--json', '--quiet']);
    expect(res.code).toBe(0);
    const result = JSON.parse(res.stdout) as ProbeResult;
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/\s(src|href)=/); // nothing to fetch: scripts, styles and data are inline

    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
      await tab.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
      // A string, so this file needs no DOM types: it runs in the page.
      const seen = (await tab.evaluate(`({
        bars: [...document.querySelectorAll('#histogram rect.bar')].map((b) => Number(b.getAttribute('data-count'))),
        barHeights: [...document.querySelectorAll('#histogram rect.bar')].map((b) => Number(b.getAttribute('height'))),
        points: document.querySelectorAll('#timeline circle.pt').length,
        pointsY: [...document.querySelectorAll('#timeline circle.pt')].map((c) => Number(c.getAttribute('cy'))),
        summary: document.getElementById('summary')?.textContent ?? '',
      })`)) as { bars: number[]; barHeights: number[]; points: number; pointsY: number[]; summary: string };
      expect(errors).toEqual([]);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      expect(seen.bars.reduce((a, b) => a + b, 0)).toBe(25);
      expect(seen.bars).toEqual(result.histogram.map((b) => b.count));
      expect(Math.max(...seen.barHeights)).toBeGreaterThan(100);
      expect(seen.points).toBe(25);
      expect(seen.pointsY.every((y) => Number.isFinite(y) && y > 0)).toBe(true);
      expect(seen.summary).toContain('delay');
      expect(seen.summary).toContain('25 received, 0 lost');
    } finally {
      await browser.close();
    }
  });
});

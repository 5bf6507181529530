import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = process.env.ATBRIDGE_CLI ?? 'dist/src/cli.js';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots a person can look at after the run (kept out of git). */
const ARTIFACTS = 'test-results/html';

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atb-html-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}, 30_000);
afterAll(async () => {
  await browser?.close();
});

interface Seen {
  lanes: string[];
  rows: number;
  visible: number;
  findings: { id: string; text: string }[];
  pinned: { line: string | undefined; pin: string }[];
  mqtt: string[];
  ticks: number;
  findingMarks: number;
  rtts: string[];
}

const LOOK = `({
  lanes: [...document.querySelectorAll('#lanes div')].map((d) => d.textContent),
  rows: document.querySelectorAll('.row').length,
  visible: [...document.querySelectorAll('.row')].filter((r) => !r.classList.contains('hidden')).length,
  findings: [...document.querySelectorAll('.finding[data-id]')].map((f) => ({ id: f.dataset.id, text: f.textContent })),
  pinned: [...document.querySelectorAll('.row.pinned')].map((r) => ({ line: r.dataset.line, pin: r.querySelector('.pin')?.textContent ?? '' })),
  mqtt: [...document.querySelectorAll('.cell-network .mqtt')].filter((m) => m.offsetParent !== null).map((m) => m.textContent),
  ticks: document.querySelectorAll('#scale .tick').length,
  findingMarks: document.querySelectorAll('#scale .finding-mark').length,
  rtts: [...document.querySelectorAll('.rtt')].map((r) => r.textContent),
})`;

async function open(page: string, shot: string): Promise<{ seen: Seen; errors: string[]; requests: string[]; tab: Awaited<ReturnType<Browser['newPage']>> }> {
  const tab = await browser.newPage();
  await tab.setViewport({ width: 1400, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  tab.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  tab.on('request', (r) => requests.push(r.url()));
  await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
  await tab.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
  await tab.screenshot({ path: join(ARTIFACTS, shot) as `${string}.png`, fullPage: false });
  return { seen: (await tab.evaluate(LOOK)) as Seen, errors, requests, tab };
}

describe.runIf(existsSync(CHROMIUM))('decode --html and doctor --log --html in headless Chromium', () => {
  it('decode --html: three lanes, round trips, MQTT fields in the network lane, a working filter', async () => {
    const page = join(dir, 'esp.html');
    const run = spawnSync(process.execPath, [CLI, 'decode', 'fixtures/captures/socat-x-esp-at-mqtt.log', '--html', page], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/\s(src|href)=["'](?!#)/); // self-contained: nothing to fetch
    const { seen, errors, requests, tab } = await open(page, 'decode-esp-at-mqtt.png');
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(seen.lanes).toEqual(['time s', 'host', 'module', 'network / broker']);
    expect(seen.rows).toBeGreaterThan(50);
    expect(seen.visible).toBe(seen.rows);
    expect(seen.rtts.some((r) => /ms after AT\+CIPSTART/.test(r))).toBe(true);
    expect(seen.mqtt.some((m) => m.startsWith('⇢ CONNECT'))).toBe(true);
    expect(seen.mqtt.some((m) => m.includes('PUBLISH') && m.includes('topic=lab/'))).toBe(true);
    expect(seen.ticks).toBeGreaterThan(2);
    // Typing in the filter leaves only the matching rows.
    await tab.type('#filter', 'publish');
    const filtered = (await tab.evaluate(LOOK)) as Seen;
    expect(filtered.visible).toBeGreaterThan(0);
    expect(filtered.visible).toBeLessThan(seen.rows / 4);
    expect(filtered.mqtt.every((m) => m.includes('PUBLISH'))).toBe(true);
    await tab.screenshot({ path: join(ARTIFACTS, 'decode-esp-at-mqtt-filtered.png') });
    // Unticking the module lane hides its rows.
    await tab.evaluate(`document.getElementById('filter').value = ''; document.getElementById('filter').dispatchEvent(new Event('input'))`);
    await tab.click('#controls input[value=module]');
    const hosts = (await tab.evaluate(`[...document.querySelectorAll('.row')].filter((r) => !r.classList.contains('hidden')).map((r) => r.dataset.lane)`)) as string[];
    expect(hosts).toContain('host');
    expect(hosts.every((l) => l === 'host' || l === 'state')).toBe(true);
    await tab.close();
  }, 30_000);

  it('doctor --log --html: the finding is shown and pinned to its evidence line, marked on the time scale', async () => {
    const page = join(dir, 'cme10.html');
    const run = spawnSync(process.execPath, [CLI, 'doctor', '--log', 'fixtures/captures/interceptty-sim7600-cme10.log', '--html', page], { encoding: 'utf8' });
    expect(run.status).toBe(1); // an error-level finding, as without --html
    const { seen, errors, tab } = await open(page, 'doctor-sim-missing.png');
    expect(errors).toEqual([]);
    expect(seen.findings.map((f) => f.id)).toEqual(['sim-missing']);
    expect(seen.findings[0]!.text).toContain('line 47');
    expect(seen.findings[0]!.text).toContain('fix: insert the SIM');
    expect(seen.pinned).toEqual([{ line: '47', pin: '◆ sim-missing' }]);
    expect(seen.findingMarks).toBe(0); // interceptty has no times: nothing to place on the scale
    await tab.close();
  }, 30_000);

  it('a timed trace: the finding is marked on the time scale and its link flashes the row', async () => {
    const trace = join(dir, 'timed.jsonl');
    const lines = [
      { type: 'atbridge-trace', version: 1, tool: 'test', start: '2026-12-03T03:00:00.000Z', profile: 'sim7600' },
      { t: 0, dir: 'tx', data: 'AT\r' },
      { t: 4, dir: 'rx', data: '\r\nOK\r\n' },
      { t: 1500, dir: 'tx', data: 'AT+CPIN?\r' },
      { t: 1509, dir: 'rx', data: '\r\n+CME ERROR: 10\r\n' },
      { t: 3000, dir: 'tx', data: 'AT+CSQ\r' },
      { t: 3006, dir: 'rx', data: '\r\n+CSQ: 21,99\r\n\r\nOK\r\n' },
    ];
    writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const page = join(dir, 'timed.html');
    expect(spawnSync(process.execPath, [CLI, 'doctor', '--log', trace, '--html', page], { encoding: 'utf8' }).status).toBe(1);
    const { seen, errors, tab } = await open(page, 'doctor-timed.png');
    expect(errors).toEqual([]);
    expect(seen.findings.map((f) => f.id)).toEqual(['sim-missing']);
    expect(seen.pinned).toEqual([{ line: '5', pin: '◆ sim-missing' }]);
    expect(seen.findingMarks).toBe(1);
    expect(seen.ticks).toBeGreaterThan(2);
    expect(seen.rtts).toContain('9 ms after AT+CPIN?');
    // The evidence link scrolls to and flashes the row.
    await tab.click('.finding .evidence a');
    const flashed = (await tab.evaluate(`document.querySelector('.row.flash')?.dataset.line`)) as string | undefined;
    expect(flashed).toBe('5');
    await tab.close();
  }, 30_000);

  it('--html without --log, and a page it cannot write, are one line each', () => {
    const a = spawnSync(process.execPath, [CLI, 'doctor', '--device', 'emu:sim7600', '--html', join(dir, 'x.html')], { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--html draws a capture');
    const b = spawnSync(process.execPath, [CLI, 'decode', 'fixtures/captures/socat-x-esp-at-mqtt.log', '--html', '/nonexistent-dir/x.html'], { encoding: 'utf8' });
    expect(b.status).not.toBe(0);
    expect(b.stderr.trim().split('\n')[0]).toContain('cannot write /nonexistent-dir/x.html');
  });
});

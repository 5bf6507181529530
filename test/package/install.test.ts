import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';

const exec = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

// What a user's program does: import the entry points, run a virtual SIM7600 on a pty, publish
// through it to a real broker, and read the message back through the module.
const PROGRAM = `
import { MqttClient, openModemSession, isAtbridgeError } from 'atbridge';
import { startEmulator } from 'atbridge/emulator';
import { diagnoseCapture } from 'atbridge/capture';
const port = Number(process.env.MQTT_PORT);
const emulator = await startEmulator({ profile: 'sim7600', pty: String(process.env.PTY_PATH), pacing: false });
const session = await openModemSession({ device: emulator.device, apn: 'internet' });
const client = new MqttClient({ connect: () => session.connect('127.0.0.1', port), clientId: 'pkg-test', reconnect: false });
const received = new Promise((resolve) => client.on('message', (topic, payload) => resolve(topic + ' ' + payload.toString())));
await client.start();
await client.subscribe('pkg/#', { qos: 1 });
await client.publish('pkg/hello', 'from the installed package', { qos: 1 });
console.log('received: ' + (await received));
await client.end();
await session.close();
await emulator.close();
const diagnosis = await diagnoseCapture(String(process.env.LOG_FILE));
console.log('findings: ' + diagnosis.findings.map((f) => f.id).join(','));
console.log('typed errors: ' + isAtbridgeError(new Error('x')));
`;

// tsc and npm install are slow on a loaded 2-core machine; the tests wait, they do not time.
describe('the package installs from its tarball and works from JS and TS', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-pkg-'));
  const project = join(dir, 'project');
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await startMosquitto();
    // prepare/prepack scripts would rebuild; npm test has just built dist/.
    await exec('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    await exec('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball), '@types/node@20'], { cwd: project, timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    ...process.env,
    MQTT_PORT: String(broker.port),
    PTY_PATH: join(dir, `ttyEMU${Math.floor(Math.random() * 1e6)}`),
    LOG_FILE: join(ROOT, 'fixtures/logs/sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt'),
  });

  it('ships the entry points and their declarations, not the tests or benches', async () => {
    const files = (await exec('tar', ['-tzf', join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)])).stdout.split('\n');
    for (const f of ['package/dist/src/api/index.js', 'package/dist/src/api/index.d.ts', 'package/dist/src/api/emulator.d.ts', 'package/dist/src/api/capture.d.ts', 'package/firmware-profiles/sim7600.json', 'package/CHANGELOG.md']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('package/dist/test/') || f.startsWith('package/dist/bench/'))).toBe(false);
  });

  it('a JavaScript program imports the entry points and talks through the emulator', async () => {
    writeFileSync(join(project, 'main.mjs'), PROGRAM);
    const { stdout } = await exec(process.execPath, ['main.mjs'], { cwd: project, env: env(), timeout: 60_000 });
    expect(stdout).toContain('received: pkg/hello from the installed package');
    expect(stdout).toContain('findings: sim-missing');
    expect(stdout).toContain('typed errors: false');
  });

  it('a TypeScript program compiles strictly against the package types and runs', async () => {
    // Typed use: the status and the error code are unions the compiler checks.
    const typed = `import { ERROR_CODES, type ErrorCode, type ModemStatus } from 'atbridge';\n${PROGRAM}
function advice(code: ErrorCode): string {
  switch (code) {
    case 'sim-missing': return 'insert the SIM';
    case 'at-timeout': return 'check the baud rate';
    default: return code;
  }
}
const s = undefined as ModemStatus | undefined;
console.log('advice: ' + advice('sim-missing') + '; codes: ' + (ERROR_CODES.includes('module-rebooted') ? 'listed' : 'missing') + '; ' + (s?.state ?? 'no state'));
`;
    writeFileSync(join(project, 'main.ts'), typed);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], outDir: 'out' }, files: ['main.ts'] }),
    );
    await exec(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project }).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`tsc failed:\n${e.stdout}${e.stderr}`);
    });
    const { stdout } = await exec(process.execPath, ['out/main.js'], { cwd: project, env: env(), timeout: 60_000 });
    expect(stdout).toContain('received: pkg/hello from the installed package');
    expect(stdout).toContain('advice: insert the SIM; codes: listed; no state');
  });

  it('the installed CLI runs from the project (npx atbridge)', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'atbridge', 'decode', join(ROOT, 'fixtures/logs/sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt')], { cwd: project, timeout: 60_000 });
    expect(stdout).toMatch(/SIM not inserted/);
  });

  it('a code that is not an error code does not compile', async () => {
    writeFileSync(join(project, 'wrong.ts'), "import type { ErrorCode } from 'atbridge';\nconst c: ErrorCode = 'sim-mising';\nvoid c;\n");
    writeFileSync(join(project, 'tsconfig.wrong.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], noEmit: true }, files: ['wrong.ts'] }));
    const err = await exec(process.execPath, [TSC, '-p', 'tsconfig.wrong.json'], { cwd: project }).then(() => undefined, (e: { stdout: string }) => e);
    expect(err?.stdout).toMatch(/wrong\.ts\(2,7\): error TS2(322|820): Type '"sim-mising"' is not assignable to type 'ErrorCode'/);
  });

  it('internal files are not importable: only the documented entry points are public', async () => {
    writeFileSync(join(project, 'internal.mjs'), "await import('atbridge/dist/src/modem/session.js');");
    const err = await exec(process.execPath, ['internal.mjs'], { cwd: project }).then(() => undefined, (e: { stderr: string }) => e);
    expect(err?.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** Require this user and password (a password file made with mosquitto_passwd). */
  auth?: { username: string; password: string };
  /** Also open a TLS listener with a CA and server certificate generated for the test. */
  tls?: boolean | { requireCertificate?: boolean };
  /** Keep sessions and retained messages across restart() (default true). */
  persistence?: boolean;
  /** Extra mosquitto.conf lines. */
  extraConfig?: string[];
}

export interface TestCertificates {
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A real mosquitto on loopback ports chosen free at start, with its own config in a temp dir. */
export interface Mosquitto {
  host: string;
  port: number;
  /** Port of the TLS listener, when asked for. */
  tlsPort: number | undefined;
  certs: TestCertificates | undefined;
  dir: string;
  /** Everything the broker logged (for a failing test's message). */
  log(): string;
  /** Sends a signal to the broker (SIGSTOP / SIGCONT freeze it: acks stop without closing a socket). */
  signal(signal: NodeJS.Signals): void;
  /** Stops (SIGTERM, so persistence is saved) and starts again on the same ports. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'atbridge-mosquitto-'));
  const port = await freePort();
  // Two free-port lookups in a row may get the same port (bound, closed, handed out again): mosquitto then fails with "Address already in use".
  let tlsPort: number | undefined;
  while (options.tls && (tlsPort === undefined || tlsPort === port)) tlsPort = await freePort();
  const certs = options.tls ? makeCertificates(dir) : undefined;
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${options.auth ? 'false' : 'true'}`,
    `persistence ${options.persistence === false ? 'false' : 'true'}`,
    `persistence_location ${dir}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
  ];
  // As root, mosquitto would switch to user "mosquitto", who cannot read this private temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.auth) {
    const passwordFile = join(dir, 'passwd');
    writeFileSync(passwordFile, '');
    execFileSync('mosquitto_passwd', ['-b', passwordFile, options.auth.username, options.auth.password]);
    lines.push(`password_file ${passwordFile}`);
  }
  if (tlsPort !== undefined && certs) {
    const requireCertificate = typeof options.tls === 'object' && options.tls.requireCertificate === true;
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${certs.caFile}`,
      `certfile ${certs.serverCert}`,
      `keyfile ${certs.serverKey}`,
      `require_certificate ${requireCertificate}`,
    );
  }
  lines.push(...(options.extraConfig ?? []));
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, `${lines.join('\n')}\n`);

  let logText = '';
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.stdout?.on('data', (d: Buffer) => (logText += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logText += d.toString()));
    child = proc;
    await waitForPort(port, proc, () => logText);
  };
  const halt = async () => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      await exited;
    }
    live.delete(proc);
  };
  await launch();
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    certs,
    dir,
    log: () => logText,
    signal(signal) {
      child?.kill(signal);
    },
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port nobody listens on right now (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited at start: ${log().trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${log().trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A test CA, a server certificate for the name localhost (not the IP, so --insecure has something to skip) and a client certificate, made with openssl. */
function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '2', '-subj', '/CN=atbridge test CA');
  writeFileSync(path('server.ext'), 'subjectAltName=DNS:localhost\n');
  openssl('req', ...ec, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
    '-out', path('server.crt'), '-days', '2', '-extfile', path('server.ext'));
  openssl('req', ...ec, '-keyout', path('client.key'), '-out', path('client.csr'), '-subj', '/CN=atbridge-test-client');
  openssl('x509', '-req', '-in', path('client.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial',
    '-out', path('client.crt'), '-days', '2');
  return {
    caFile: path('ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
  };
}

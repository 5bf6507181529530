import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { AtbridgeError, errorMessage } from '../errors.js';

/** What a user asks of TLS (flags or bridge keys): which CAs, client certificate or PSK, how strict. */
export interface TlsSettings {
  /** PEM file of the CA(s) to trust (mosquitto's --cafile). */
  cafile?: string;
  /** Directory of PEM CA certificates to trust (mosquitto's --capath). */
  capath?: string;
  /** Client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
  /** Skip the host name check (the chain is still verified), as mosquitto's --insecure. */
  insecure?: boolean;
  /** TLS-PSK instead of certificates (mosquitto's --psk / --psk-identity): the key in hex. */
  psk?: { identity: string; key: string };
}

export interface TlsOptions extends TlsSettings {
  /** Name the certificate must carry (default: the host connected to). */
  servername: string;
  /** How the caller spells the options in fixes (the bridge says bridge_cafile, pub says --cafile). */
  optionNames?: TlsOptionNames;
  /** Receives each NSS key log line (pub/sub/rr --tls-keylog), from the handshake on. */
  onKeylog?: (line: Buffer) => void;
  /** pub/sub/rr --tls-version (the lowest version allowed, as in mosquitto), --ciphers (TLS 1.2 list), --tls-alpn. */
  minVersion?: tls.SecureVersion;
  ciphers?: string;
  alpn?: string;
}

interface TlsOptionNames {
  cafile: string;
  insecure: string;
  files: string;
  psk: string;
}

const CLI_OPTION_NAMES: TlsOptionNames = { cafile: '--cafile or --capath', insecure: '--insecure', files: '--cafile/--cert/--key', psk: '--psk and --psk-identity' };

/** A PSK as mosquitto takes it: hex digits, whole bytes. */
export function pskProblem(key: string): string | undefined {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(key)) return 'must be hexadecimal digits, two per byte (as in mosquitto\'s psk_file)';
  return undefined;
}

/** What the TLS files are called where the user gave them (flags, or the bridge's config keys). */
export interface TlsFileLabels {
  cafile: string;
  capath: string;
  cert: string;
  key: string;
}

const CLI_FILE_LABELS: TlsFileLabels = { cafile: '--cafile', capath: '--capath', cert: '--cert', key: '--key' };

type TlsFiles = Pick<TlsOptions, 'cafile' | 'capath' | 'cert' | 'key'>;

/** Reads the CA, certificate and key files; a missing or empty one is a one-line bad-option error. */
export function readTlsFiles(files: TlsFiles, labels: TlsFileLabels = CLI_FILE_LABELS): { ca?: Buffer[]; cert?: Buffer; key?: Buffer } {
  const ca = [...(files.cafile ? [readPem(files.cafile, labels.cafile)] : []), ...(files.capath ? readCaDirectory(files.capath, labels.capath) : [])];
  return {
    ...(ca.length > 0 ? { ca } : {}),
    ...(files.cert ? { cert: readPem(files.cert, labels.cert) } : {}),
    ...(files.key ? { key: readPem(files.key, labels.key) } : {}),
  };
}

/**
 * Runs TLS on the host over an already open byte stream, so the module's plain TCP socket
 * carries only ciphertext and the module never needs certificates or an SSL stack of its own.
 */
export function startTls(socket: Duplex, options: TlsOptions): Promise<tls.TLSSocket> {
  let context: tls.ConnectionOptions;
  try {
    context = options.psk ? pskContext(socket, options.psk) : { socket, rejectUnauthorized: true, ...readTlsFiles(options) };
  } catch (err) {
    // The connection is open already: close it, or it would keep the process alive.
    socket.destroy();
    return Promise.reject(err);
  }
  // `host` is what the certificate is checked against (tls would assume "localhost" with a bare socket);
  // SNI carries names only, never IP addresses.
  if (options.minVersion) context.minVersion = options.minVersion;
  if (options.ciphers) context.ciphers = options.ciphers;
  if (options.alpn) context.ALPNProtocols = [options.alpn];
  context.host = options.servername;
  if (!isIpAddress(options.servername)) context.servername = options.servername;
  if (options.insecure || options.psk) context.checkServerIdentity = () => undefined;
  return new Promise((resolve, reject) => {
    const secure = tls.connect(context);
    if (options.onKeylog) secure.on('keylog', options.onKeylog);
    const onError = (err: Error) => {
      secure.destroy();
      const names = options.optionNames ?? CLI_OPTION_NAMES;
      const fix = options.psk ? `check ${names.psk} match a line of the broker's psk_file, and that its listener has psk_hint set` : tlsFix(err, names);
      reject(new AtbridgeError('tls-failed', `TLS handshake with the broker failed: ${opensslReason(err.message)}`, { fix, cause: err }));
    };
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

/** TLS 1.2 with the PSK cipher suites: Node's TLS 1.3 has no external PSKs, and there is no certificate to check. */
function pskContext(socket: Duplex, psk: { identity: string; key: string }): tls.ConnectionOptions {
  const key = Buffer.from(psk.key, 'hex');
  return { socket, ciphers: 'PSK', maxVersion: 'TLSv1.2', pskCallback: () => ({ psk: key, identity: psk.identity }) };
}

function readPem(path: string, option: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot read ${option} ${path}: ${errorMessage(err)}`, { exitCode: 1 });
  }
  // An empty or non-PEM file would only fail later, inside the handshake, with OpenSSL's words.
  if (!pem.includes('-----BEGIN ')) throw new AtbridgeError('bad-option', `${option} ${path} holds no PEM block (-----BEGIN …)`, { exitCode: 1 });
  return pem;
}

/** Every PEM certificate file in `dir` (c_rehash links and plain .pem/.crt files alike). */
function readCaDirectory(dir: string, label: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot read ${label} ${dir}: ${errorMessage(err)}`, { exitCode: 1 });
  }
  const pems: Buffer[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      const pem = readFileSync(path);
      if (pem.includes('-----BEGIN CERTIFICATE-----')) pems.push(pem);
    } catch {
      // An unreadable entry is skipped, as OpenSSL's lookup would.
    }
  }
  if (pems.length === 0) throw new AtbridgeError('bad-option', `${label} ${dir} holds no PEM certificate`, { exitCode: 1 });
  return pems;
}

/** `80DC…:error:0A0003FC:SSL routines:ssl3_read_bytes:sslv3 alert bad record mac:…` → `sslv3 alert bad record mac`. */
function opensslReason(message: string): string {
  const reason = /:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
  return (reason ?? message).trim();
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function tlsFix(err: Error, names: TlsOptionNames): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `connect by the name in the certificate, or use ${names.insecure} to skip the host name check`;
  if (code.includes('CERT') || code.includes('SELF_SIGNED') || code.includes('ISSUER') || code.includes('VERIFY')) return `pass the broker's CA with ${names.cafile}`;
  return `check the broker has TLS on this port and the ${names.files} files match`;
}

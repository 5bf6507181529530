import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { AtbridgeError, errorMessage } from '../errors.js';

export interface TlsOptions {
  /** PEM file of the CA(s) to trust (mosquitto's --cafile). */
  cafile?: string;
  /** Client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
  /** Skip the host name check (the chain is still verified), as mosquitto's --insecure. */
  insecure?: boolean;
  /** Name the certificate must carry (default: the host connected to). */
  servername: string;
  /** How the caller spells the options in fixes (the bridge says bridge_cafile, pub says --cafile). */
  optionNames?: { cafile: string; insecure: string; files: string };
}

const CLI_OPTION_NAMES = { cafile: '--cafile', insecure: '--insecure', files: '--cafile/--cert/--key' };

/**
 * Runs TLS on the host over an already open byte stream, so the module's plain TCP socket
 * carries only ciphertext and the module never needs certificates or an SSL stack of its own.
 */
export function startTls(socket: Duplex, options: TlsOptions): Promise<tls.TLSSocket> {
  const context: tls.ConnectionOptions = { socket, rejectUnauthorized: true };
  if (options.cafile) context.ca = readPem(options.cafile, '--cafile');
  if (options.cert) context.cert = readPem(options.cert, '--cert');
  if (options.key) context.key = readPem(options.key, '--key');
  // `host` is what the certificate is checked against (tls would assume "localhost" with a bare socket);
  // SNI carries names only, never IP addresses.
  context.host = options.servername;
  if (!isIpAddress(options.servername)) context.servername = options.servername;
  if (options.insecure) context.checkServerIdentity = () => undefined;
  return new Promise((resolve, reject) => {
    const secure = tls.connect(context);
    const onError = (err: Error) => {
      secure.destroy();
      reject(new AtbridgeError('tls-failed', `TLS handshake with the broker failed: ${err.message}`, { fix: tlsFix(err, options.optionNames ?? CLI_OPTION_NAMES), cause: err }));
    };
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot read ${option} ${path}: ${errorMessage(err)}`, { exitCode: 1 });
  }
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function tlsFix(err: Error, names: { cafile: string; insecure: string; files: string }): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `connect by the name in the certificate, or use ${names.insecure} to skip the host name check`;
  if (code.includes('CERT') || code.includes('SELF_SIGNED') || code.includes('ISSUER') || code.includes('VERIFY')) return `pass the broker's CA with ${names.cafile}`;
  return `check the broker has TLS on this port and the ${names.files} files match`;
}

import { Duplex } from 'node:stream';

/** What a ModemSocket needs from the modem underneath; one per open connection. */
export interface SocketBackend {
  readonly mode: 'command' | 'transparent';
  /** Largest piece one send may carry (AT+CIPSEND limit; the whole buffer in transparent mode). */
  readonly maxSend: number;
  /** Resolves once the module has accepted the bytes (SEND OK / the link drained). */
  send(data: Buffer): Promise<void>;
  /** The reader wants more (buffered receive mode reads on demand). */
  resume(): void;
  /** Closes the connection at the module; resolves when it is closed. */
  close(): Promise<void>;
}

/**
 * A TCP connection through the module, shaped like net.Socket: `connect`/`ready`, `data`,
 * `end`, `close`, `error`, backpressure and `setTimeout`. Small writes made while a send is
 * in flight are coalesced into the next AT+CIPSEND (Node hands them to `_writev` together).
 */
export class ModemSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily = 'IPv4';
  bytesRead = 0;
  bytesWritten = 0;
  /** AT+CIPSEND calls made (or link writes in transparent mode), for the efficiency figures. */
  sends = 0;
  readonly connecting = false;
  private backend: SocketBackend | undefined;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private remoteEnded = false;
  private closing: Promise<void> | undefined;

  /** Coalesce writes queued behind a send into one (off: one send per write, the TinyGSM way — for comparison). */
  coalesce = true;

  constructor(host: string, port: number) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.remoteAddress = host;
    this.remotePort = port;
  }

  get mode(): 'command' | 'transparent' | undefined {
    return this.backend?.mode;
  }

  get pending(): boolean {
    return this.backend === undefined;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.destroyed) return 'closed';
    if (!this.backend) return 'opening';
    return 'open';
  }

  /** @internal The modem calls this once the connection is open. */
  attach(backend: SocketBackend): void {
    this.backend = backend;
    this.touch();
    process.nextTick(() => {
      this.emit('connect');
      this.emit('ready');
    });
  }

  /** @internal Bytes from the peer, exactly as the module announced them. */
  deliver(data: Buffer): boolean {
    if (this.destroyed || this.remoteEnded || data.length === 0) return true;
    this.bytesRead += data.length;
    this.touch();
    return this.push(data);
  }

  /** @internal The peer closed (CLOSED, +IPCLOSE, NO CARRIER). */
  remoteClosed(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
    // allowHalfOpen is false: our side ends too; the module's link is already gone.
    this.closing ??= Promise.resolve();
    this.end();
  }

  /** @internal The modem under the socket failed (reboot, network loss, dead module). */
  fail(err: Error): void {
    this.closing ??= Promise.resolve();
    this.destroy(err);
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.idleMs = ms;
    if (callback) this.once('timeout', callback);
    this.touch();
    return this;
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  address(): Record<string, never> {
    return {};
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sendAll(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const work = this.coalesce
      ? this.sendAll(Buffer.concat(chunks.map((c) => c.chunk)))
      : chunks.reduce((prev, c) => prev.then(() => this.sendAll(c.chunk)), Promise.resolve());
    work.then(() => callback(), callback);
  }

  override _read(): void {
    this.backend?.resume();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.closeBackend().then(() => {
      if (!this.remoteEnded) {
        this.remoteEnded = true;
        this.push(null);
      }
      callback();
      // The connection is gone at the module. As net.Socket does, close even when nobody reads;
      // unread data keeps the socket open until it is read (then 'end' closes it).
      process.nextTick(() => {
        if (this.readableLength === 0 && !this.readableEnded && !this.destroyed) this.destroy();
      });
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    // Closing at the module is best effort here: destroy must not wait on a slow module.
    this.closeBackend().catch(() => {});
    callback(error);
  }

  private closeBackend(): Promise<void> {
    this.closing ??= this.backend ? this.backend.close() : Promise.resolve();
    return this.closing;
  }

  private async sendAll(data: Buffer): Promise<void> {
    const backend = this.backend;
    if (!backend) throw new Error('socket is not connected');
    for (let at = 0; at < data.length; at += backend.maxSend) {
      const piece = data.subarray(at, Math.min(data.length, at + backend.maxSend));
      this.sends++;
      await backend.send(piece);
      this.bytesWritten += piece.length;
    }
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.idleMs > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref?.();
    }
  }
}

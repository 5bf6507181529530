import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { ModuleProfile, Vars } from '../profile/index.js';
import type { ModemSocket, SocketBackend } from './modem-socket.js';
import type { LinkEvents, ModemPort } from './port.js';

/**
 * Command mode: each send is one AT+CIPSEND with the '>' prompt and its confirmation; received
 * data arrives in push URCs (+IPD) or is read on notice (AT+CIPRXGET=2 / AT+CIPRECVDATA).
 */
export class CommandModeBackend implements SocketBackend, LinkEvents {
  readonly mode = 'command' as const;
  readonly maxSend: number;
  private gone = false;
  private remoteGone = false;
  private noticePending = false;
  private reading = false;
  private wantMore = true;

  constructor(
    private readonly modem: ModemPort,
    private readonly socket: ModemSocket,
    private readonly profile: ModuleProfile,
    private readonly vars: Vars,
    private readonly recvMode: 'push' | 'buffered',
  ) {
    this.maxSend = profile.maxSend;
  }

  async send(data: Buffer): Promise<void> {
    if (this.gone || this.remoteGone) throw closedError();
    try {
      await this.modem.runCommand('socketSend', { ...this.vars, len: data.length }, data);
    } catch (err) {
      if (err instanceof AtError) {
        throw new AtbridgeError('send-failed', `sending ${data.length} bytes failed: ${err.message}`, { exitCode: ExitCode.socketFailed });
      }
      throw err;
    }
  }

  resume(): void {
    this.wantMore = true;
    if (this.noticePending) void this.readPending();
  }

  async close(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    if (this.remoteGone) return;
    this.modem.socketClosing();
    await this.modem.runCommand('socketClose', this.vars).catch(() => undefined);
  }

  abandon(): void {
    this.gone = true;
  }

  onPushed(data: Buffer): void {
    if (this.gone) return;
    this.socket.deliver(data);
  }

  onDataAvailable(_len: number | undefined): void {
    // Also in push mode: a module an earlier run left in buffered mode announces data instead of pushing it.
    if (this.gone) return;
    this.noticePending = true;
    if (this.wantMore) void this.readPending();
  }

  /** The peer closed. In buffered mode the module may still hold bytes: read them first. */
  onRemoteClosed(line: string): void {
    if (this.remoteGone) return;
    this.remoteGone = true;
    this.modem.note(`socket: peer closed (${line})`);
    const finish = () => {
      this.gone = true;
      this.socket.remoteClosed();
    };
    if (this.recvMode === 'buffered' || this.noticePending) {
      this.noticePending = true;
      void this.readPending(true).finally(finish);
    } else {
      finish();
    }
  }

  onRawData(_chunk: Buffer): void {
    // Command mode has no data mode: every byte comes framed (lines, blocks).
  }

  private async readPending(force = false): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.noticePending && (this.wantMore || force) && !this.gone) {
        this.noticePending = false;
        const res = await this.modem.runCommand('socketRead', { ...this.vars, len: this.profile.data.socket.maxRead }).catch(() => undefined);
        let rest = 0;
        for (const block of res?.response?.blocks ?? []) {
          if (block.data.length > 0) this.wantMore = this.socket.deliver(block.data);
          if (block.groups.rest !== undefined) rest = Number(block.groups.rest);
          else rest = -1; // the module did not say: ask
        }
        if (rest < 0 && this.profile.hasCommand('socketPending')) {
          const pending = await this.modem.runCommand('socketPending', this.vars).catch(() => undefined);
          rest = Number(pending?.groups.rest ?? 0);
        } else if (rest < 0) {
          // No count and no way to ask (SIM7080's AT+CARECV? reads like a data header): read until an empty answer.
          rest = (res?.response?.blocks ?? []).some((b) => b.data.length > 0) ? 1 : 0;
        }
        if (rest > 0) this.noticePending = true;
      }
    } finally {
      this.reading = false;
    }
  }
}

/**
 * Transparent mode: the link is the connection. Writes go straight to the line; leaving takes
 * the escape ladder. A `CLOSED` / `NO CARRIER` line at the very end of a burst means the peer closed.
 */
export class TransparentBackend implements SocketBackend, LinkEvents {
  readonly mode = 'transparent' as const;
  readonly maxSend = 64 * 1024;
  private gone = false;
  private readonly closedTail: RegExp;

  constructor(
    private readonly modem: ModemPort,
    private readonly socket: ModemSocket,
    profile: ModuleProfile,
  ) {
    const lines = profile.data.socket.transparent?.closedLines ?? ['CLOSED'];
    this.closedTail = new RegExp(`\\r\\n(?:${lines.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\r\\n$`);
  }

  async send(data: Buffer): Promise<void> {
    if (this.gone) throw closedError();
    await this.modem.writeRaw(data);
  }

  resume(): void {}

  onPushed(_data: Buffer): void {
    // Transparent mode has no URCs: the line is the connection.
  }

  onDataAvailable(_len: number | undefined): void {}

  onRemoteClosed(_line: string): void {
    // The peer's close shows as CLOSED / NO CARRIER at the end of the data (onRawData).
  }

  onRawData(chunk: Buffer): void {
    if (this.gone) return;
    const tail = chunk.subarray(Math.max(0, chunk.length - 16)).toString('latin1');
    const m = this.closedTail.exec(tail);
    if (m) {
      // The module left data mode by itself: the peer hung up.
      this.socket.deliver(chunk.subarray(0, chunk.length - m[0].length));
      this.gone = true;
      this.modem.leaveDataMode();
      this.modem.note(`socket: peer closed in transparent mode (${m[0].trim()})`);
      this.socket.remoteClosed();
      return;
    }
    this.socket.deliver(chunk);
  }

  async close(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    this.modem.socketClosing();
    await this.modem.escape();
    await this.modem.runCommand('socketClose', this.modem.vars()).catch(() => undefined);
  }

  abandon(): void {
    this.gone = true;
  }
}

function closedError(): AtbridgeError {
  return new AtbridgeError('socket-closed', 'the connection through the module is closed', { exitCode: ExitCode.socketFailed });
}

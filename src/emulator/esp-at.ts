import type { Dialect } from './dialects.js';
import type { AccessPoint, EmulatorOptions } from './options.js';
import { SendCloseOrder } from './send-close-order.js';
import type { FamilyHandler, Reply, VirtualModule } from './virtual-module.js';
import { sleep } from './virtual-module.js';

const OK: Reply = { final: 'OK' };
const ERROR: Reply = { final: 'ERROR' };
/** Passive receive keeps a 5760-byte socket window; when it is full TCP stalls (DOC CIPRECVTYPE). */
const PASSIVE_WINDOW = 5760;
/** One active-mode +IPD carries at most this much (DOC CIPRECVTYPE). */
const MAX_IPD = 2920;

/**
 * Espressif ESP-AT 2.x in station mode, as its docs (DOC) and the field logs show it.
 * One socket at a time; with AT+CIPMUX=1 it may have any link id 0-4 and every message carries it.
 */
export class EspAtHandler implements FamilyHandler {
  private mode = 1;
  private joined: AccessPoint | undefined;
  private mux = 0;
  private cipMode = 0;
  private passive = false;
  private showRemote = false;
  /** Link id of the open socket in multi-connection mode. */
  private link = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private noticeSent = false;
  /** The peer closed while passive data was unread: CLOSED waits until it is read (DOC). */
  private closePending = false;
  /** A peer close waits for the answer of a send that runs. */
  private readonly closeOrder = new SendCloseOrder();
  private baud: number;

  constructor(
    private readonly m: VirtualModule,
    private readonly o: EmulatorOptions,
  ) {
    this.baud = o.baud;
  }

  reset(): void {
    this.joined = undefined;
    this.mux = 0;
    this.cipMode = 0;
    this.passive = false;
    this.showRemote = false;
    this.dropBuffered();
    this.closeOrder.reset();
  }

  banner(): readonly string[] {
    return this.m.profile.data.banner.lines;
  }

  /** Stored credentials (autojoin=SSID): the module is back on its AP shortly after `ready`. */
  booted(): void {
    const ap = this.o.accessPoints.find((a) => a.ssid === this.o.autoJoin && a.failCode === undefined);
    if (!ap) return;
    this.joined = ap;
    this.m.urc('WIFI CONNECTED');
    this.m.urc('WIFI GOT IP');
  }

  /** `CLOSED` or `<id>,CLOSED`, and the same for CONNECT. */
  private tagged(word: string): string {
    return this.mux === 1 ? `${this.link},${word}` : word;
  }

  command(line: string): Reply | Promise<Reply> {
    const up = line.toUpperCase();
    let m: RegExpExecArray | null;
    if (up === 'AT+RST') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    if (/^AT\+SYSSTORE=[01]$/.test(up)) return OK;
    if ((m = /^AT\+CWMODE=([0-3])(?:,[01])?$/.exec(up))) {
      this.mode = Number(m[1]);
      if (this.mode === 0 || this.mode === 2) this.disconnect();
      return OK;
    }
    if (up === 'AT+CWMODE?') return { lines: [`+CWMODE:${this.mode}`], final: 'OK' };
    if (up === 'AT+CWJAP?') {
      const ap = this.joined;
      return ap ? { lines: [`+CWJAP:"${escape(ap.ssid)}","a4:cf:12:00:00:01",6,${ap.rssi ?? -55},0,0,0,0,0`], final: 'OK' } : { lines: ['No AP'], final: 'OK' };
    }
    if ((m = /^AT\+CWJAP(?:_CUR|_DEF)?="((?:[^"\\]|\\.)*)","((?:[^"\\]|\\.)*)"/i.exec(line))) return this.join(unescape(m[1]!), unescape(m[2]!));
    if (up === 'AT+CWLAP') {
      if (this.mode === 0 || this.mode === 2) return ERROR;
      const lines = this.o.accessPoints.map((ap) => `+CWLAP:(3,"${escape(ap.ssid)}",${ap.rssi ?? -60},"a4:cf:12:00:00:01",6)`);
      return (async () => {
        await sleep(this.o.joinMs);
        return { lines, final: 'OK' };
      })();
    }
    if (up === 'AT+CWQAP') return { final: 'OK', after: () => this.disconnect() };
    if (up === 'AT+CIFSR') {
      return { lines: [`+CIFSR:STAIP,"${this.joined ? '192.168.4.23' : '0.0.0.0'}"`, '+CIFSR:STAMAC,"a4:cf:12:00:00:02"'], final: 'OK' };
    }
    if ((m = /^AT\+CIPMUX=([01])$/.exec(up))) {
      // Only with no connection open, and multi-connection needs CIPMODE=0 (DOC TCP-IP).
      if (this.m.socket) return { lines: ['link is builded'], final: 'ERROR' };
      if (m[1] === '1' && this.cipMode === 1) return ERROR;
      this.mux = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CIPMUX?') return { lines: [`+CIPMUX:${this.mux}`], final: 'OK' };
    if ((m = /^AT\+CIPMODE=([01])$/.exec(up))) {
      if (this.mux !== 0 && m[1] === '1') return ERROR;
      this.cipMode = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CIPMODE?') return { lines: [`+CIPMODE:${this.cipMode}`], final: 'OK' };
    if ((m = /^AT\+CIPRECVMODE=([01])$/.exec(up)) || (m = /^AT\+CIPRECVTYPE=(?:\d,)?([01])$/.exec(up))) {
      this.passive = m[1] === '1';
      return OK;
    }
    if ((m = /^AT\+CIPDINFO=([01])$/.exec(up))) {
      this.showRemote = m[1] === '1';
      return OK;
    }
    if (up === 'AT+CIPSTATUS') return this.status();
    if ((m = /^AT\+CIPSTART=(?:(\d),)?"TCP","([^"]+)",(\d+)(?:,\d+)?$/i.exec(line))) {
      // The link id is there exactly when CIPMUX=1.
      if ((m[1] === undefined) !== (this.mux === 0) || Number(m[1] ?? 0) > 4) return ERROR;
      return this.start(Number(m[1] ?? 0), m[2]!, Number(m[3]));
    }
    if ((m = /^AT\+CIPSEND=(?:(\d),)?(\d+)$/.exec(up))) {
      if ((m[1] === undefined) !== (this.mux === 0)) return ERROR;
      return this.send(Number(m[1] ?? 0), Number(m[2]));
    }
    if (up === 'AT+CIPSEND') {
      if (this.cipMode !== 1 || !this.m.socket) return ERROR;
      return { final: 'OK', after: () => void this.m.enterTransparent('\r\n>') };
    }
    if ((m = /^AT\+CIPRECVDATA=(?:(\d),)?(\d+)$/.exec(up))) {
      if ((m[1] === undefined) !== (this.mux === 0)) return ERROR;
      return this.read(Number(m[1] ?? 0), Number(m[2]));
    }
    if (up === 'AT+CIPRECVLEN?') {
      const lengths = Array.from({ length: 5 }, (_, i) => (i === this.link && (this.m.socket || this.bufferedBytes) ? this.bufferedBytes : -1));
      return { lines: [`+CIPRECVLEN:${lengths.join(',')}`], final: 'OK' };
    }
    if ((m = /^AT\+CIPCLOSE(?:=(\d))?$/.exec(up))) return this.close(m[1] === undefined ? undefined : Number(m[1]));
    if (up === 'AT+UART_CUR?') return { lines: [`+UART_CUR:${this.baud},8,1,0,0`], final: 'OK' };
    if ((m = /^AT\+UART_(?:CUR|DEF)=(\d+),8,1,0,[0-3]$/.exec(up))) {
      const rate = Number(m[1]);
      if (!this.m.profile.data.baudChange?.rates.includes(rate)) return ERROR;
      // [guess, REFERENCE B.6] OK at the old rate, the new rate afterwards.
      return {
        final: 'OK',
        after: () => {
          this.baud = rate;
          this.m.port.setBaud(rate);
        },
      };
    }
    if (/^AT\+(CWAUTOCONN|CIPSERVER|CIPSSLSIZE|CWLAPOPT|SLEEP|SYSLOG|SYSMSG|CIPSTO|TRANSINTVL)=/.test(up)) return OK;
    return ERROR;
  }

  private status(): Reply {
    // STATUS: 2 has an IP, 3 a transmission, 5 not connected (DOC32).
    const status = this.m.socket ? 3 : this.joined ? 2 : 5;
    const lines = [`STATUS:${status}`];
    const target = this.m.socketTarget;
    if (target && this.m.socket) lines.push(`+CIPSTATUS:${this.link},"TCP","${target.host}",${target.port},40000,0`);
    return { lines, final: 'OK' };
  }

  private async join(ssid: string, password: string): Promise<Reply> {
    if (this.mode !== 1 && this.mode !== 3) return ERROR;
    if (this.joined) this.disconnect();
    const ap = this.o.accessPoints.find((a) => a.ssid === ssid);
    // An AP that never answers costs the whole join timeout (espat_11: ~15 s of busy p...).
    await sleep(ap?.failCode === 1 ? this.o.joinTimeoutMs : this.o.joinMs);
    if (!ap) return { lines: ['+CWJAP:3'], final: 'ERROR' };
    if (ap.failCode !== undefined) return { lines: [`+CWJAP:${ap.failCode}`], final: 'ERROR' };
    if (ap.password !== password) return { lines: ['+CWJAP:2'], final: 'ERROR' };
    this.joined = ap;
    return { lines: ['WIFI CONNECTED', 'WIFI GOT IP'], final: 'OK' };
  }

  /** Leaves the AP: the socket goes first (espat_15: CLOSED, then WIFI DISCONNECT). */
  private disconnect(): void {
    if (!this.joined) return;
    this.joined = undefined;
    if (this.m.socket) {
      this.m.closeSocket();
      this.dropBuffered();
      this.m.urc(this.tagged('CLOSED'));
    }
    this.m.urc('WIFI DISCONNECT');
  }

  private async start(link: number, host: string, port: number): Promise<Reply> {
    if (!this.joined) return { lines: ['no ip'], final: 'ERROR' };
    if (this.m.socket) return { lines: ['ALREADY CONNECTED'], final: 'ERROR' };
    const result = await this.m.openSocket(host, port);
    this.link = link;
    // Failure: ERROR, then CLOSED (espat_08, _30).
    if (result !== 'ok') return { final: 'ERROR', after: () => this.m.urc(this.tagged('CLOSED')) };
    this.dropBuffered();
    return { lines: [this.tagged('CONNECT')], final: 'OK' };
  }

  private send(link: number, length: number): Reply {
    if (this.cipMode !== 0 || !this.m.socket || link !== this.link) return { lines: ['link is not valid'], final: 'ERROR' };
    if (length < 1 || length > 8192) return ERROR;
    // OK, blank, '>' (DOC; V020 prints "\r\n>"), then exactly `length` bytes.
    this.closeOrder.begin();
    void this.m.writeLines(['OK']).then(() =>
      this.m.expectData(length, (data) => {
        const socket = this.m.socket;
        socket?.send(data);
        void this.m.answer({ lines: [`Recv ${length} bytes`], final: socket ? 'SEND OK' : 'SEND FAIL', after: () => this.closeOrder.done(() => this.peerClosed()) });
      }),
    );
    return {};
  }

  private read(link: number, max: number): Reply {
    // Nothing to read is an error (espat_19).
    if (link !== this.link || this.bufferedBytes === 0 || max < 1) return ERROR;
    const all = Buffer.concat(this.buffered);
    const take = all.subarray(0, Math.min(max, all.length));
    const rest = all.subarray(take.length);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    const target = this.m.socketTarget;
    const remote = this.showRemote && target ? `"${target.host}",${target.port},` : '';
    const after = () => {
      if (this.bufferedBytes > 0) return;
      this.noticeSent = false;
      if (this.closePending) {
        this.closePending = false;
        this.m.urc(this.tagged('CLOSED'));
      }
    };
    if (this.bufferedBytes < PASSIVE_WINDOW) this.m.socket?.resume();
    return { raw: Buffer.concat([Buffer.from(`\r\n+CIPRECVDATA:${take.length},${remote}`, 'latin1'), take]), final: 'OK', after };
  }

  private close(link: number | undefined): Reply {
    if ((link === undefined) !== (this.mux === 0)) return ERROR;
    if ((!this.m.socket && !this.closePending) || (link !== undefined && link !== this.link && link !== 5)) return ERROR;
    this.m.closeSocket();
    this.dropBuffered();
    return { lines: [this.tagged('CLOSED')], final: 'OK' };
  }

  received(data: Buffer): void {
    if (this.passive) {
      this.buffered.push(data);
      this.bufferedBytes += data.length;
      if (this.bufferedBytes >= PASSIVE_WINDOW) this.m.socket?.pause();
      // No new +IPD until the previous data has been read (DOC).
      if (!this.noticeSent) {
        this.noticeSent = true;
        this.m.urc(this.mux === 1 ? `+IPD,${this.link},${this.bufferedBytes}` : `+IPD,${this.bufferedBytes}`);
      }
      return;
    }
    const target = this.m.socketTarget;
    const remote = this.showRemote && target ? `,"${target.host}",${target.port}` : '';
    const id = this.mux === 1 ? `${this.link},` : '';
    for (let at = 0; at < data.length; at += MAX_IPD) {
      const part = data.subarray(at, at + MAX_IPD);
      void this.m.write(Buffer.concat([Buffer.from(`\r\n+IPD,${id}${part.length}${remote}:`, 'latin1'), part]));
    }
  }

  private dropBuffered(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
    this.noticeSent = false;
    this.closePending = false;
  }

  peerClosed(): void {
    if (this.closeOrder.hold()) return;
    if (this.passive && this.bufferedBytes > 0) {
      this.closePending = true;
      return;
    }
    this.m.urc(this.tagged('CLOSED'));
  }

  networkLost(hadSocket: boolean): void {
    this.joined = undefined;
    this.dropBuffered();
    // [guess] An AP lost under the module is reported first, the dead link after it; a deliberate
    // leave (CWQAP, RST) closes the link first (espat_15).
    this.m.urc('WIFI DISCONNECT');
    if (hadSocket) this.m.urc(this.tagged('CLOSED'));
  }
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

function escape(value: string): string {
  return value.replace(/[\\",]/g, (c) => `\\${c}`);
}

export const dialect: Dialect = {
  id: 'esp-at',
  kind: 'wifi',
  description: 'Espressif ESP-AT 2.x/3.x on ESP32 and ESP8266 (CWJAP, CIPSTART/CIPSEND, passive receive, transparent CIPMODE)',
  create: (module, options) => new EspAtHandler(module, options),
};

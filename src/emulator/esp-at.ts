import type { AccessPoint, EmulatorOptions } from './options.js';
import type { FamilyHandler, Reply, VirtualModule } from './virtual-module.js';
import { sleep } from './virtual-module.js';

const OK: Reply = { final: 'OK' };
const ERROR: Reply = { final: 'ERROR' };

/** Espressif ESP-AT 2.x in station mode, one link, as its docs and the field logs show it. */
export class EspAtHandler implements FamilyHandler {
  private mode = 1;
  private joined: AccessPoint | undefined;
  private mux = 0;
  private cipMode = 0;
  private passive = false;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(
    private readonly m: VirtualModule,
    private readonly o: EmulatorOptions,
  ) {}

  reset(): void {
    this.joined = undefined;
    this.mux = 0;
    this.cipMode = 0;
    this.passive = false;
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  command(line: string): Reply | Promise<Reply> {
    const up = line.toUpperCase();
    const identity = this.m.identity(up);
    if (identity) return { lines: identity, final: 'OK' };
    if (up === 'AT') return OK;
    if (up === 'ATE0' || up === 'ATE1') {
      this.m.echo = up === 'ATE1';
      return OK;
    }
    let m: RegExpExecArray | null;
    if (up === 'AT+RST') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    if (/^AT\+SYSSTORE=[01]$/.test(up)) return OK;
    if ((m = /^AT\+CWMODE=([0-3])$/.exec(up))) {
      this.mode = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CWMODE?') return { lines: [`+CWMODE:${this.mode}`], final: 'OK' };
    if (up === 'AT+CWJAP?') {
      const ap = this.joined;
      return ap ? { lines: [`+CWJAP:"${escape(ap.ssid)}","a4:cf:12:00:00:01",6,${ap.rssi ?? -55},0,0,0,0,0`], final: 'OK' } : { lines: ['No AP'], final: 'OK' };
    }
    if ((m = /^AT\+CWJAP="((?:[^"\\]|\\.)*)","((?:[^"\\]|\\.)*)"/i.exec(line))) return this.join(unescape(m[1]!), unescape(m[2]!));
    if (up === 'AT+CWQAP') {
      this.joined = undefined;
      this.m.closeSocket();
      return { final: 'OK', after: () => this.m.urc('WIFI DISCONNECT') };
    }
    if (up === 'AT+CIFSR') {
      return { lines: [`+CIFSR:STAIP,"${this.joined ? '192.168.4.23' : '0.0.0.0'}"`, '+CIFSR:STAMAC,"a4:cf:12:00:00:02"'], final: 'OK' };
    }
    if ((m = /^AT\+CIPMUX=([01])$/.exec(up))) {
      if (this.m.socket) return { lines: ['link is builded'], final: 'ERROR' };
      this.mux = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPMODE=([01])$/.exec(up))) {
      if (this.mux !== 0 && m[1] === '1') return ERROR;
      this.cipMode = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPRECV(?:MODE|TYPE)=([01])$/.exec(up))) {
      this.passive = m[1] === '1';
      return OK;
    }
    if (up === 'AT+CIPSTATUS') {
      const status = this.m.socket ? 3 : this.joined ? 2 : 5;
      const lines = [`STATUS:${status}`];
      if (this.m.socketTarget && this.m.socket) lines.push(`+CIPSTATUS:0,"TCP","${this.m.socketTarget.host}",${this.m.socketTarget.port},40000,0`);
      return { lines, final: 'OK' };
    }
    if ((m = /^AT\+CIPSTART="TCP","([^"]+)",(\d+)/i.exec(line))) return this.start(m[1]!, Number(m[2]));
    if ((m = /^AT\+CIPSEND=(\d+)$/.exec(up))) return this.send(Number(m[1]));
    if (up === 'AT+CIPSEND') {
      if (this.cipMode !== 1 || !this.m.socket) return ERROR;
      return { final: 'OK', after: () => void this.m.enterTransparent('\r\n>') };
    }
    if ((m = /^AT\+CIPRECVDATA=(\d+)$/.exec(up))) return this.read(Number(m[1]));
    if (up === 'AT+CIPRECVLEN?') return { lines: [`+CIPRECVLEN:${this.m.socket || this.bufferedBytes ? this.bufferedBytes : -1},-1,-1,-1,-1`], final: 'OK' };
    if (up === 'AT+CIPCLOSE') {
      if (!this.m.socket) return ERROR;
      this.m.closeSocket();
      this.dropBuffered();
      return { lines: ['CLOSED'], final: 'OK' };
    }
    if (up === 'AT+UART_CUR?') return { lines: [`+UART_CUR:${this.o.baud},8,1,0,0`], final: 'OK' };
    if ((m = /^AT\+UART_(?:CUR|DEF)=(\d+),8,1,0,[0-3]$/.exec(up))) {
      const rate = Number(m[1]);
      if (!this.m.profile.data.baudChange?.rates.includes(rate)) return ERROR;
      return { final: 'OK', after: () => this.m.port.setBaud(rate) };
    }
    if (/^AT\+(CIPDINFO|CWAUTOCONN|CIPSERVER|CIPSSLSIZE|CWLAPOPT|SLEEP)=/.test(up)) return OK;
    return ERROR;
  }

  private async join(ssid: string, password: string): Promise<Reply> {
    if (this.mode !== 1 && this.mode !== 3) return ERROR;
    await sleep(this.o.joinMs);
    const ap = this.o.accessPoints.find((a) => a.ssid === ssid);
    if (this.joined) {
      this.joined = undefined;
      this.m.urc('WIFI DISCONNECT');
    }
    if (!ap) return { lines: ['+CWJAP:3'], final: 'ERROR' };
    if (ap.password !== password) return { lines: ['+CWJAP:2'], final: 'ERROR' };
    this.joined = ap;
    return { lines: ['WIFI CONNECTED', 'WIFI GOT IP'], final: 'OK' };
  }

  private async start(host: string, port: number): Promise<Reply> {
    if (!this.joined) return { lines: ['no ip'], final: 'ERROR' };
    if (this.m.socket) return { lines: ['ALREADY CONNECTED'], final: 'ERROR' };
    const result = await this.m.openSocket(host, port);
    if (result !== 'ok') return { lines: ['ERROR', 'CLOSED'] };
    return { lines: ['CONNECT'], final: 'OK' };
  }

  private send(length: number): Reply {
    if (this.cipMode !== 0 || !this.m.socket) return { lines: ['link is not valid'], final: 'ERROR' };
    if (length < 1 || length > 8192) return ERROR;
    void this.m.writeLines(['OK']).then(() =>
      this.m.expectData(length, (data) => {
        const socket = this.m.socket;
        if (!socket) {
          void this.m.answer({ lines: [`Recv ${length} bytes`], final: 'SEND FAIL' });
          return;
        }
        socket.send(data);
        void this.m.answer({ lines: [`Recv ${length} bytes`], final: 'SEND OK' });
      }),
    );
    return {};
  }

  private read(max: number): Reply {
    const all = Buffer.concat(this.buffered);
    const take = all.subarray(0, Math.min(max, all.length));
    const rest = all.subarray(take.length);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    return { raw: Buffer.concat([Buffer.from(`\r\n+CIPRECVDATA:${take.length},`, 'latin1'), take]), final: 'OK' };
  }

  received(data: Buffer): void {
    if (this.passive) {
      this.buffered.push(data);
      this.bufferedBytes += data.length;
      this.m.urc(`+IPD,${this.bufferedBytes}`);
      return;
    }
    void this.m.write(Buffer.concat([Buffer.from(`\r\n+IPD,${data.length}:`, 'latin1'), data]));
  }

  private dropBuffered(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
  }

  peerClosed(): void {
    this.m.urc('CLOSED');
  }

  networkLost(): void {
    this.joined = undefined;
    this.dropBuffered();
    this.m.urc('WIFI DISCONNECT');
  }
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

function escape(value: string): string {
  return value.replace(/[\\",]/g, (c) => `\\${c}`);
}

import type { EmulatorOptions } from './options.js';
import type { FamilyHandler, Reply, VirtualModule } from './virtual-module.js';

const OK: Reply = { final: 'OK' };
const ERROR: Reply = { final: 'ERROR' };

/** SIMCom SIM7600 as its AT manual and the field logs show it. */
export class Sim7600Handler implements FamilyHandler {
  private cmee = 0;
  private simUnlocked = false;
  private netOpen = false;
  private cipMode = 0;
  private rxGet = 0;
  private apn = 'internet';
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private noticeSent = false;
  private registrationLostUntil = 0;
  private baud: number;

  constructor(
    private readonly m: VirtualModule,
    private readonly o: EmulatorOptions,
  ) {
    this.baud = o.baud;
  }

  reset(): void {
    this.cmee = 0;
    this.simUnlocked = false;
    this.netOpen = false;
    this.cipMode = 0;
    this.rxGet = 0;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.noticeSent = false;
  }

  loseRegistration(ms: number): void {
    this.registrationLostUntil = Date.now() + ms;
  }

  private cme(code: number): Reply {
    return { final: this.cmee === 0 ? 'ERROR' : `+CME ERROR: ${code}` };
  }

  private registration(): number {
    if (this.simState() !== 'ready') return 0;
    if (Date.now() < this.registrationLostUntil) return 2;
    return Date.now() - this.m.bootedAt >= this.o.registerAfterMs ? 1 : 2;
  }

  private simState(): 'ready' | 'pin' | 'missing' | 'busy' {
    if (this.o.sim === 'pin') return this.simUnlocked ? 'ready' : 'pin';
    if (this.o.sim === 'busy') return Date.now() - this.m.bootedAt < 3000 ? 'busy' : 'ready';
    return this.o.sim;
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
    if ((m = /^AT\+CMEE=([012])$/.exec(up))) {
      this.cmee = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CPIN?') {
      const sim = this.simState();
      if (sim === 'missing') return this.cme(10);
      if (sim === 'busy') return this.cme(14);
      return { lines: [`+CPIN: ${sim === 'pin' ? 'SIM PIN' : 'READY'}`], final: 'OK' };
    }
    if ((m = /^AT\+CPIN="?(\d{4,8})"?$/.exec(up))) {
      if (this.simState() !== 'pin') return this.cme(3);
      if (m[1] !== this.o.pin) return this.cme(16);
      this.simUnlocked = true;
      return { final: 'OK', after: () => setTimeout(() => this.m.urc('+CPIN: READY'), 5) };
    }
    if (up === 'AT+CSQ') return { lines: [this.simState() === 'ready' ? '+CSQ: 21,99' : '+CSQ: 99,99'], final: 'OK' };
    if ((m = /^AT\+C(E|G)?REG\?$/.exec(up))) return { lines: [`+C${m[1] ?? ''}REG: 0,${this.registration()}`], final: 'OK' };
    if (/^AT\+C(E|G)?REG=[0-2]$/.test(up)) return OK;
    if (up === 'AT+COPS?') return { lines: [this.registration() === 1 ? '+COPS: 0,0,"atbridge emulated",7' : '+COPS: 0'], final: 'OK' };
    if ((m = /^AT\+CGDCONT=1,"IP","([^"]*)"/i.exec(line))) {
      this.apn = m[1]!;
      return OK;
    }
    if (up === 'AT+CGDCONT?') return { lines: [`+CGDCONT: 1,"IP","${this.apn}","0.0.0.0",0,0,0,0`], final: 'OK' };
    if ((m = /^AT\+CIPMODE=([01])$/.exec(up))) {
      if (this.netOpen) return ERROR;
      this.cipMode = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPRXGET=([01])$/.exec(up))) {
      this.rxGet = Number(m[1]);
      return OK;
    }
    if (up === 'AT+NETOPEN?') return { lines: [`+NETOPEN: ${this.netOpen ? 1 : 0}`], final: 'OK' };
    if (up === 'AT+NETOPEN') {
      if (this.netOpen) return { lines: ['+IP ERROR: Network is already opened'], final: 'ERROR' };
      const attached = this.registration() === 1;
      return {
        final: 'OK',
        after: () =>
          setTimeout(() => {
            this.netOpen = attached;
            this.m.urc(`+NETOPEN: ${attached ? 0 : 1}`);
          }, 10 + this.o.rttMs),
      };
    }
    if (up === 'AT+NETCLOSE') {
      if (!this.netOpen) return { lines: ['+NETCLOSE: 2'], final: 'ERROR' };
      this.m.closeSocket();
      this.netOpen = false;
      return { final: 'OK', after: () => this.m.urc('+NETCLOSE: 0') };
    }
    if (up === 'AT+IPADDR') return this.netOpen ? { lines: ['+IPADDR: 10.64.0.2'], final: 'OK' } : { lines: ['+IP ERROR: Network not opened'], final: 'ERROR' };
    if ((m = /^AT\+CIPOPEN=0,"TCP","([^"]+)",(\d+)$/i.exec(line))) return this.open(m[1]!, Number(m[2]));
    if ((m = /^AT\+CIPSEND=0,(\d+)$/.exec(up))) return this.send(Number(m[1]));
    if ((m = /^AT\+CIPRXGET=2,0(?:,(\d+))?$/.exec(up))) return this.read(Number(m[1] ?? 1500));
    if (up === 'AT+CIPRXGET=4,0') return { lines: [`+CIPRXGET: 4,0,${this.bufferedBytes}`], final: 'OK' };
    if (up === 'AT+CIPCLOSE=0') {
      if (!this.m.socket) return { lines: ['+CIPCLOSE: 0,4'], final: 'ERROR' };
      this.m.closeSocket();
      this.dropBuffered();
      // As the field logs show it: OK, CLOSED, then the close result.
      return { final: 'OK', after: () => this.m.writeLines(['CLOSED', '+CIPCLOSE: 0,0']) };
    }
    if (up === 'AT+CIPCLOSE?') return { lines: [`+CIPCLOSE: ${this.m.socket ? 1 : 0},0,0,0,0,0,0,0,0,0`], final: 'OK' };
    if (up === 'ATO') {
      if (!this.m.socket || this.cipMode !== 1) return { final: 'NO CARRIER' };
      return { after: () => void this.m.enterTransparent(`\r\nCONNECT ${this.baud}\r\n`) };
    }
    if (up === 'AT+IPR?') return { lines: [`+IPR: ${this.baud}`], final: 'OK' };
    if ((m = /^AT\+IPRE?X?=(\d+)$/.exec(up))) {
      const rate = Number(m[1]);
      if (!this.m.profile.data.baudChange?.rates.includes(rate)) return ERROR;
      // OK goes out at the old rate; then the UART switches.
      return { final: 'OK', after: () => this.switchBaud(rate) };
    }
    if (up === 'AT+CRESET') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    if (/^AT\+(CSCLK|CFUN|CNMP|CGATT)[=?]/.test(up) || up === 'AT&D1' || up === 'AT&W') return OK;
    return ERROR;
  }

  switchBaud(rate: number): void {
    this.baud = rate;
    this.m.port.setBaud(rate);
  }

  private async open(host: string, port: number): Promise<Reply> {
    if (!this.netOpen) return { lines: ['+CIPOPEN: 0,2'], final: 'ERROR' };
    if (this.m.socket) return { lines: ['+CIPOPEN: 0,4'], final: 'ERROR' };
    if (this.cipMode === 1) {
      const result = await this.m.openSocket(host, port);
      if (result !== 'ok') return { final: 'CONNECT FAIL' };
      return { after: () => void this.m.enterTransparent(`\r\nCONNECT ${this.baud}\r\n`) };
    }
    return {
      final: 'OK',
      after: () => {
        void this.m.openSocket(host, port).then((result) => this.m.urc(`+CIPOPEN: 0,${result === 'ok' ? 0 : result === 'not-allowed' ? 4 : 1}`));
      },
    };
  }

  private send(length: number): Reply {
    if (!this.m.socket || length < 1 || length > 1500) return ERROR;
    void this.m.expectData(length, (data) => {
      this.m.socket?.send(data);
      void this.m.answer({ final: 'OK', after: () => this.m.urc(`+CIPSEND: 0,${length},${length}`) });
    });
    return {};
  }

  private read(max: number): Reply {
    if (this.bufferedBytes === 0) return { lines: ['+IP ERROR: No data'], final: 'ERROR' };
    const all = Buffer.concat(this.buffered);
    const take = all.subarray(0, Math.min(max, all.length));
    const rest = all.subarray(take.length);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    if (rest.length === 0) this.noticeSent = false;
    return {
      raw: Buffer.concat([Buffer.from(`\r\n+CIPRXGET: 2,0,${take.length},${rest.length}\r\n`, 'latin1'), take]),
      final: 'OK',
    };
  }

  received(data: Buffer): void {
    if (this.rxGet === 1) {
      this.buffered.push(data);
      this.bufferedBytes += data.length;
      if (!this.noticeSent) {
        this.noticeSent = true;
        this.m.urc('+CIPRXGET: 1,0');
      }
      return;
    }
    void this.m.write(Buffer.concat([Buffer.from(`\r\n+IPD${data.length}\r\n`, 'latin1'), data]));
  }

  private dropBuffered(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
    this.noticeSent = false;
  }

  peerClosed(): void {
    // In buffered mode the bytes stay readable after the close, as on the real module.
    this.m.urc('+IPCLOSE: 0,1');
  }

  networkLost(): void {
    this.netOpen = false;
    this.dropBuffered();
    this.m.urc('+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY');
  }
}

import { RxStore } from './rx-store.js';
import { Cellular3gpp, ERROR, OK, OPERATOR, PDP_ADDRESS } from './3gpp-base.js';
import type { Dialect } from './dialect.js';
import type { EmulatorOptions } from './option-types.js';
import { SendCloseOrder } from './send-close-order.js';
import type { Reply, VirtualModule } from './virtual-module.js';


/**
 * SIMCom SIM7600 as its AT manual (MAN: SIM7500_SIM7600 Series AT Command Manual V3.00) and the
 * field logs show it, on the 27.007 base. One socket at a time, any link 0-9.
 */
export class Sim7600Handler extends Cellular3gpp {
  protected netOpen = false;
  /** AT+NETOPEN answered OK and its +NETOPEN: result is not out yet. */
  private netOpening: Promise<void> | undefined;
  /**
   * A CIPOPEN sent while AT+NETOPEN is still opening waits for it instead of failing with
   * `+CIPOPEN: <link>,2` (drivers that send CIPOPEN right after NETOPEN's OK work on the module).
   */
  protected opensAfterNetOpen = false;
  private cipMode = 0;
  private rxGet = 0;
  /** RECV FROM line and +IPD header on pushed data (AT+CIPSRIP / AT+CIPHEAD, both 1 by default). */
  private showSource = true;
  private showHeader = true;
  /** Link id of the open socket. */
  protected link = 0;
  private readonly rx = new RxStore(() => this.m.socket);
  /** A peer close waits for the answer of a send that runs. */
  private readonly closeOrder = new SendCloseOrder();
  private baud: number;

  constructor(m: VirtualModule, o: EmulatorOptions) {
    super(m, o);
    this.baud = o.baud;
  }

  protected resetDialect(): void {
    this.netOpen = false;
    this.netOpening = undefined;
    this.cipMode = 0;
    this.rxGet = 0;
    this.showSource = true;
    this.showHeader = true;
    this.dropBuffered();
    this.closeOrder.reset();
  }

  /** AT+CGATT=0 takes the data network down with it. */
  protected override detach(): void {
    super.detach();
    if (!this.netOpen) return;
    this.m.closeSocket();
    this.dropBuffered();
    this.netOpen = false;
  }

  protected override leaveNetwork(): void {
    super.leaveNetwork();
    if (this.netOpen) this.m.inject({ kind: 'network-lost' });
  }

  protected dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    // MAN §4.2.12: the ICCID, as +ICCID: (TinyGSM reads it so).
    if (up === 'AT+CICCID') return this.iccid('+ICCID: ');
    // MAN §4.2.x AT+CSPN?: the service provider name from the SIM.
    if (up === 'AT+CSPN?') return this.simError() ?? { lines: [`+CSPN: "${OPERATOR.long}",0`], final: 'OK' };
    // MAN §5.2.12 AT+CPSI?: the serving cell; "NO SERVICE" while not registered.
    if (up === 'AT+CPSI?') {
      const info = this.registration.registered ? 'LTE,Online,001-01,0x1A2B,28177668,256,EUTRAN-BAND3,1300,5,5,-94,-850,-560,15' : 'NO SERVICE,Online';
      return { lines: [`+CPSI: ${info}`], final: 'OK' };
    }
    if ((m = /^AT\+CIPMODE=([01])$/.exec(up))) {
      // Set before AT+NETOPEN (MAN §11.2.10).
      if (this.netOpen) return ERROR;
      this.cipMode = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CIPMODE?') return { lines: [`+CIPMODE: ${this.cipMode}`], final: 'OK' };
    if ((m = /^AT\+CIPRXGET=([01])$/.exec(up))) {
      this.rxGet = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPSRIP=([01])$/.exec(up))) {
      this.showSource = m[1] === '1';
      return OK;
    }
    if ((m = /^AT\+CIPHEAD=([01])$/.exec(up))) {
      this.showHeader = m[1] === '1';
      return OK;
    }
    if (up === 'AT+NETOPEN?') return { lines: [`+NETOPEN: ${this.netOpen ? 1 : 0}`], final: 'OK' };
    if (up === 'AT+NETOPEN') {
      if (this.netOpen) return { lines: ['+IP ERROR: Network is already opened'], final: 'ERROR' };
      let opened!: () => void;
      this.netOpening = new Promise((resolve) => (opened = resolve));
      return {
        final: 'OK',
        after: () =>
          setTimeout(() => {
            this.netOpen = this.attached();
            this.netOpening = undefined;
            opened();
            this.m.urc(`+NETOPEN: ${this.netOpen ? 0 : 1}`);
          }, 10 + this.o.rttMs),
      };
    }
    if (up === 'AT+NETCLOSE') {
      if (!this.netOpen) return { lines: ['+NETCLOSE: 2'], final: 'ERROR' };
      this.m.closeSocket();
      this.dropBuffered();
      this.netOpen = false;
      return { final: 'OK', after: () => this.m.urc('+NETCLOSE: 0') };
    }
    if (up === 'AT+IPADDR') return this.netOpen ? { lines: [`+IPADDR: ${PDP_ADDRESS}`], final: 'OK' } : { lines: ['+IP ERROR: Network not opened'], final: 'ERROR' };
    if ((m = /^AT\+CIPOPEN=(\d+),"TCP","([^"]+)",(\d+)(?:,\d+)?$/i.exec(line))) return this.open(Number(m[1]), m[2]!, Number(m[3]));
    if ((m = /^AT\+CIPSEND=(\d+),(\d+)$/.exec(up))) return this.send(Number(m[1]), Number(m[2]));
    if ((m = /^AT\+CIPRXGET=([23]),(\d+)(?:,(\d+))?$/.exec(up))) return this.read(Number(m[2]), m[1] === '3', Number(m[3] ?? 1500));
    if ((m = /^AT\+CIPRXGET=4,(\d+)$/.exec(up))) return { lines: [`+CIPRXGET: 4,${m[1]},${Number(m[1]) === this.link ? this.rx.bytes : 0}`], final: 'OK' };
    if ((m = /^AT\+CIPCLOSE=(\d+)$/.exec(up))) {
      const link = Number(m[1]);
      if (!this.m.socket || link !== this.link) return { lines: [`+CIPCLOSE: ${link},4`], final: 'ERROR' };
      this.m.closeSocket();
      this.dropBuffered();
      return { final: 'OK', after: () => this.m.writeLines(this.closeLines(link)) };
    }
    if (up === 'AT+CIPCLOSE?') {
      const states = Array.from({ length: 10 }, (_, i) => (this.m.socket && i === this.link ? 1 : 0));
      return { lines: [`+CIPCLOSE: ${states.join(',')}`], final: 'OK' };
    }
    if (up === 'ATO') {
      if (!this.m.socket || this.cipMode !== 1) return { final: 'NO CARRIER' };
      return { after: () => void this.m.enterTransparent(`\r\nCONNECT ${this.baud}\r\n`) };
    }
    if ((m = /^AT\+IPR(EX)?\?$/.exec(up))) return { lines: [`+IPR${m[1] ?? ''}: ${this.baud}`], final: 'OK' };
    if ((m = /^AT\+IPR(?:EX)?=(\d+)$/.exec(up))) {
      const rate = Number(m[1]);
      if (!this.m.profile.data.baudChange?.rates.includes(rate)) return ERROR;
      // OK goes out at the old rate; then the UART switches.
      return { final: 'OK', after: () => this.switchBaud(rate) };
    }
    if (up === 'AT+CRESET') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    if (/^AT\+(CSCLK|CNMP|CIPSENDMODE|CIPCCFG|CIPTIMEOUT)=/.test(up)) return OK;
    return undefined;
  }

  /** After AT+CIPCLOSE's OK. As the field logs show it (sim7600_09): CLOSED, then the close result. */
  protected closeLines(link: number): string[] {
    return ['CLOSED', `+CIPCLOSE: ${link},0`];
  }

  switchBaud(rate: number): void {
    this.baud = rate;
    this.m.port.setBaud(rate);
  }

  private async open(link: number, host: string, port: number): Promise<Reply> {
    if (link > 9) return { lines: ['+IP ERROR: Invalid parameter'], final: 'ERROR' };
    if (this.netOpening && this.opensAfterNetOpen) await this.netOpening;
    if (!this.netOpen) return { lines: [`+CIPOPEN: ${link},2`], final: 'ERROR' };
    // One socket at a time in this emulator: a second link is "operation not supported".
    if (this.m.socket) return { lines: [`+CIPOPEN: ${link},4`], final: 'ERROR' };
    if (this.cipMode === 1) {
      // Transparent mode allows link 0 only (MAN §11.2.10).
      if (link !== 0) return { lines: [`+CIPOPEN: ${link},3`], final: 'ERROR' };
      const result = await this.m.openSocket(host, port);
      if (result !== 'ok') return { final: 'CONNECT FAIL' };
      this.link = link;
      return { after: () => void this.m.enterTransparent(`\r\nCONNECT ${this.baud}\r\n`) };
    }
    return {
      final: 'OK',
      after: () => {
        void this.m.openSocket(host, port).then((result) => {
          if (result === 'ok') this.link = link;
          this.m.urc(`+CIPOPEN: ${link},${result === 'ok' ? 0 : result === 'not-allowed' ? 4 : 1}`);
        });
      },
    };
  }

  private send(link: number, length: number): Reply {
    // After the network dropped every send gives +CIPERROR: 4 (sim7600_05).
    if (!this.m.socket || link !== this.link) return { lines: ['+CIPERROR: 4'], final: 'ERROR' };
    if (length < 1 || length > 1500) return ERROR;
    this.closeOrder.begin();
    void this.m.expectData(length, (data) => {
      const socket = this.m.socket;
      socket?.send(data);
      const confirmed = socket ? length : -1;
      void this.m.answer({
        final: 'OK',
        after: () => {
          this.m.urc(`+CIPSEND: ${link},${length},${confirmed}`);
          this.closeOrder.done(() => this.peerClosed());
        },
      });
    });
    return {};
  }

  private read(link: number, hex: boolean, max: number): Reply {
    if (link !== this.link || this.rx.bytes === 0) return { lines: ['+IP ERROR: No data'], final: 'ERROR' };
    const { take, rest } = this.rx.take(Math.min(max, hex ? 750 : 1500));
    const head = `\r\n+CIPRXGET: ${hex ? 3 : 2},${link},${take.length},${rest}\r\n`;
    const body = hex ? Buffer.from(take.toString('hex').toUpperCase(), 'latin1') : take;
    return { raw: Buffer.concat([Buffer.from(head, 'latin1'), body]), final: 'OK' };
  }

  received(data: Buffer): void {
    if (this.rxGet === 1) {
      // One notice, then none until the host has drained the buffer (MAN §11.2.6).
      if (this.rx.push(data)) this.m.urc(`+CIPRXGET: 1,${this.link}`);
      return;
    }
    // MAN §11.2.6: RECV FROM:<ip>:<port> (CIPSRIP=1), +IPD<len> (CIPHEAD=1), then the bytes.
    const target = this.m.socketTarget;
    let head = '';
    if (this.showSource && target) head += `\r\nRECV FROM:${target.host}:${target.port}`;
    if (this.showHeader) head += `\r\n+IPD${data.length}`;
    void this.m.write(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), data]));
  }

  protected dropBuffered(): void {
    this.rx.drop();
  }

  peerClosed(): void {
    if (this.closeOrder.hold()) return;
    // In buffered mode the bytes stay readable after the close.
    this.m.urc(`+IPCLOSE: ${this.link},1`);
  }

  networkLost(_hadSocket: boolean): void {
    this.netOpen = false;
    this.dropBuffered();
    this.m.urc('+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY');
  }
}

export const dialect: Dialect = {
  id: 'sim7600',
  kind: 'cellular',
  description: 'SIMCom SIM7500/SIM7600 (NETOPEN, CIPOPEN/CIPSEND/CIPRXGET, transparent CIPMODE)',
  commands: ['AT+CICCID', 'AT+CPSI?', 'AT+CSPN?', 'AT+SIMCOMATI', 'AT+NETOPEN?', 'AT+CIPMODE?', 'AT+CIPRXGET=1', 'AT+CIPCLOSE?', 'AT+IPREX?'],
  create: (module, options) => new Sim7600Handler(module, options),
};

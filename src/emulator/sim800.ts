import { RxStore } from './rx-store.js';
import { Cellular3gpp, ERROR, OK, OPERATOR, PDP_ADDRESS } from './3gpp-base.js';
import type { Dialect } from './dialect.js';
import type { EmulatorOptions } from './option-types.js';
import { SendCloseOrder } from './send-close-order.js';
import type { Reply, VirtualModule } from './virtual-module.js';

// SIMCom SIM800/SIM900/SIM868 (2G) as its manuals show it: [MAN800] SIM800 Series AT Command
// Manual V1.09 (§8 TCP/IP), [AN800] SIM800 Series TCPIP Application Note V1.02, and the field log
// sim7600_24 (SIM800L via TinyGSM: `0, CONNECT OK`, `DATA ACCEPT:0,27`, `+CIPRXGET: 2,0,4,0`).
// The CIPSTART family: a state machine CSTT → CIICR → CIFSR before CIPSTART, one or (CIPMUX=1)
// up to six links, quick send (CIPQSEND), buffered receive (CIPRXGET=1), transparent mode
// (CIPMODE=1, single link). SIM7000 keeps the same commands (sim7080.ts).

/** The IP states AT+CIPSTATUS reports (MAN800 §8.2.9, AN800 §2). */
type IpState = 'IP INITIAL' | 'IP START' | 'IP CONFIG' | 'IP GPRSACT' | 'IP STATUS' | 'TCP CONNECTING' | 'CONNECT OK' | 'TCP CLOSED' | 'PDP DEACT';

/** One send is at most this long (MAN800 AT+CIPSEND: <length> up to 1460 in normal mode). */
const MAX_SEND = 1460;
/** One AT+CIPRXGET=2 returns at most this much (MAN800 §8.2.28: <reqlength> 1..1460). */
const MAX_READ = 1460;

export class Sim800Handler extends Cellular3gpp {
  protected state: IpState = 'IP INITIAL';
  protected mux = 0;
  protected quickSend = 0;
  protected rxGet = 0;
  protected cipMode = 0;
  /** AT+CIPHEAD=1: `+IPD,<len>:` before pushed data in single-link mode (default 0: bare data). */
  private showHeader = 0;
  protected link = 0;
  private apn = '';
  private readonly rx = new RxStore(() => this.m.socket);
  private readonly closeOrder = new SendCloseOrder();
  private baud: number;
  private readonly networkApn: string | undefined;

  constructor(m: VirtualModule, o: EmulatorOptions) {
    super(m, o);
    this.baud = o.baud;
    this.networkApn = o.networkApn;
    // MAN800 AT+CMEE: factory value 0 (plain ERROR).
    this.defaultCmee = 0;
  }

  protected resetDialect(): void {
    this.state = 'IP INITIAL';
    this.mux = 0;
    this.quickSend = 0;
    this.rxGet = 0;
    this.cipMode = 0;
    this.showHeader = 0;
    this.link = 0;
    this.apn = '';
    this.dropBuffered();
    this.closeOrder.reset();
  }

  /** A 2G module: GSM access technology, and no EPS registration (AT+CEREG is not in MAN800). */
  protected override accessTechnology(): number {
    return 0;
  }

  protected hasEps(): boolean {
    return false;
  }

  /** `<n>, WORD` with CIPMUX=1, `WORD` without (MAN800 §8.2.2). */
  protected tagged(word: string): string {
    return this.mux === 1 ? `${this.link}, ${word}` : word;
  }

  override command(line: string): Reply | Promise<Reply> {
    // V.25ter concatenation, as TinyGSM sends `AT+CIFSR;E0` (AT+CIFSR alone has no final result).
    const parts = splitConcatenated(line);
    if (parts.length === 1) return super.command(line);
    return this.runConcatenated(parts);
  }

  private async runConcatenated(parts: string[]): Promise<Reply> {
    const lines: string[] = [];
    let final: string | undefined;
    for (const part of parts) {
      const echo = /^ATE([01])$/i.exec(part);
      if (echo) {
        this.m.echo = echo[1] === '1';
        final = 'OK';
        continue;
      }
      const reply = await super.command(part);
      lines.push(...(reply.lines ?? []));
      final = reply.final;
      if (final !== undefined && final !== 'OK') return { lines, final };
    }
    return { lines, final: final ?? 'OK' };
  }

  protected dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    if (/^AT\+CEREG[?=]/.test(up) && !this.hasEps()) return ERROR;
    if (up === 'AT+COPS?' && this.registration.registered) {
      // MAN800 §3.2.17: no <AcT> on a 2G module.
      const name = [OPERATOR.long, OPERATOR.short, OPERATOR.numeric][this.copsFormat]!;
      return { lines: [`+COPS: 0,${this.copsFormat},"${name}"`], final: 'OK' };
    }
    // MAN800 §6.2.23: the ICCID alone.
    if (up === 'AT+CCID') return this.iccid();
    if (up === 'AT+CSPN?') return this.simError() ?? { lines: [`+CSPN: "${OPERATOR.long}",0`], final: 'OK' };
    if (/^AT\+(CLTS|CBATCHK|CSCLK|CIPSSL|CIPSPRT|CIPSRIP|CIPDPDP)=\d(?:,\d+)*$/.test(up)) return OK;
    if (/^AT\+(IFC=\d,\d|ICF=\d,\d|IPR=\d+)$/.test(up)) return OK;
    if (/^AT\+CDNSCFG="[^"]*"(?:,"[^"]*")?$/.test(up)) return OK;
    if (/^AT\+SAPBR=/.test(up)) return this.bearer(up);
    if ((m = /^AT\+CIPMUX=([01])$/.exec(up))) {
      // Only in IP INITIAL (MAN800 §8.2.13).
      if (this.state !== 'IP INITIAL') return ERROR;
      this.mux = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CIPMUX?') return { lines: [`+CIPMUX: ${this.mux}`], final: 'OK' };
    if ((m = /^AT\+CIPQSEND=([01])$/.exec(up))) {
      this.quickSend = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPMODE=([01])$/.exec(up))) {
      if (this.state !== 'IP INITIAL') return ERROR;
      this.cipMode = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPHEAD=([01])$/.exec(up))) {
      this.showHeader = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CIPRXGET=([01])$/.exec(up))) {
      this.rxGet = Number(m[1]);
      return OK;
    }
    if ((m = /^AT\+CSTT(?:="([^"]*)"(?:,"[^"]*"){0,2})?$/i.exec(line))) {
      // MAN800 §8.2.10: only in IP INITIAL; sets the APN and moves to IP START.
      if (this.state !== 'IP INITIAL') return ERROR;
      this.apn = m[1] ?? this.contexts.get(1)?.apn ?? '';
      this.state = 'IP START';
      return OK;
    }
    if (up === 'AT+CSTT?') return { lines: [`+CSTT: "${this.apn}","",""`], final: 'OK' };
    if (up === 'AT+CIICR') {
      // MAN800 §8.2.11: only in IP START; brings the GPRS context up.
      if (this.state !== 'IP START' || !this.attached()) return ERROR;
      // An operator that accepts one APN only: the context does not come up with another (or none).
      if (this.networkApn !== undefined && this.apn !== this.networkApn) return ERROR;
      this.state = 'IP GPRSACT';
      return OK;
    }
    if (up === 'AT+CIFSR') {
      // MAN800 §8.2.12: the address, and no OK.
      if (!['IP GPRSACT', 'IP STATUS', 'CONNECT OK', 'TCP CLOSED', 'TCP CONNECTING'].includes(this.state)) return ERROR;
      if (this.state === 'IP GPRSACT') this.state = 'IP STATUS';
      return { lines: [PDP_ADDRESS] };
    }
    if (up === 'AT+CIPSTATUS') return this.status();
    if ((m = /^AT\+CIPSTATUS=(\d)$/.exec(up))) return this.linkStatus(Number(m[1]));
    if ((m = /^AT\+CIPSTART=(?:(\d),)?"(TCP|UDP)","([^"]+)","?(\d+)"?$/i.exec(line))) return this.start(m[1], m[2]!.toUpperCase(), m[3]!, Number(m[4]));
    if ((m = /^AT\+CIPSEND=(?:(\d),)?(\d+)$/.exec(up))) return this.send(m[1], Number(m[2]));
    if ((m = /^AT\+CIPRXGET=([23]),(?:(\d),)?(\d+)$/.exec(up))) return this.read(m[2], m[1] === '3', Number(m[3]));
    if ((m = /^AT\+CIPRXGET=4(?:,(\d))?$/.exec(up))) {
      const link = m[1] === undefined ? this.link : Number(m[1]);
      const prefix = this.mux === 1 ? `${link},` : '';
      return { lines: [`+CIPRXGET: 4,${prefix}${link === this.link ? this.rx.bytes : 0}`], final: 'OK' };
    }
    if ((m = /^AT\+CIPCLOSE(?:=(\d)(?:,([01]))?)?$/.exec(up))) return this.close(m[1]);
    if (up === 'AT+CIPSHUT') {
      this.m.closeSocket();
      this.dropBuffered();
      this.state = 'IP INITIAL';
      return { lines: ['SHUT OK'] };
    }
    if (up === 'ATO') {
      if (!this.m.socket || this.cipMode !== 1) return { final: 'NO CARRIER' };
      return { after: () => void this.m.enterTransparent('\r\nCONNECT\r\n') };
    }
    if (/^AT\+CFUN=1,1$/.test(up)) return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    return undefined;
  }

  /** AT+SAPBR (MAN800 §9.2.1): the bearer for the application commands (HTTP, FTP); not the CIP* link. */
  private bearer(up: string): Reply {
    let m: RegExpExecArray | null;
    if (/^AT\+SAPBR=3,1,"[A-Z]+","[^"]*"$/.test(up)) return OK;
    if (/^AT\+SAPBR=[01],1$/.test(up)) return this.attached() ? OK : ERROR;
    if ((m = /^AT\+SAPBR=2,1$/.exec(up))) return { lines: [`+SAPBR: 1,${this.attached() ? 1 : 3},"${this.attached() ? PDP_ADDRESS : '0.0.0.0'}"`], final: 'OK' };
    return ERROR;
  }

  /** AT+CIPSTATUS (MAN800 §8.2.9): OK, then the state (and with CIPMUX=1 one line per link). */
  private status(): Reply {
    const lines = [`STATE: ${this.state}`];
    if (this.mux === 1 && this.m.socket && this.m.socketTarget) {
      const t = this.m.socketTarget;
      lines.push(`C: ${this.link},0,"TCP","${t.host}","${t.port}","CONNECTED"`);
    }
    return { final: 'OK', after: () => void this.m.writeLines(lines) };
  }

  /** AT+CIPSTATUS=<n> (MAN800 §8.2.9, sim7600_24). */
  private linkStatus(link: number): Reply {
    const t = this.m.socketTarget;
    if (this.m.socket && t && link === this.link) return { lines: [`+CIPSTATUS: ${link},0,"TCP","${t.host}","${t.port}","CONNECTED"`], final: 'OK' };
    return { lines: [`+CIPSTATUS: ${link},,"","","","INITIAL"`], final: 'OK' };
  }

  private async start(id: string | undefined, protocol: string, host: string, port: number): Promise<Reply> {
    if ((this.mux === 1) !== (id !== undefined)) return ERROR;
    const link = Number(id ?? 0);
    if (link > 5 || protocol !== 'TCP') return ERROR;
    if (!['IP STATUS', 'TCP CLOSED', 'CONNECT OK'].includes(this.state)) return ERROR;
    if (this.m.socket) return this.mux === 1 && link === this.link ? { lines: [`${link}, ALREADY CONNECT`], final: 'ERROR' } : ERROR;
    this.link = link;
    this.state = 'TCP CONNECTING';
    return {
      final: 'OK',
      after: () => {
        void this.m.openSocket(host, port).then((result) => {
          if (result !== 'ok') {
            this.state = 'TCP CLOSED';
            this.m.urc(this.tagged('CONNECT FAIL'));
            return;
          }
          this.state = 'CONNECT OK';
          if (this.cipMode === 1) void this.m.enterTransparent('\r\nCONNECT\r\n');
          else this.m.urc(this.tagged('CONNECT OK'));
        });
      },
    };
  }

  private send(id: string | undefined, length: number): Reply {
    const link = Number(id ?? 0);
    if ((this.mux === 1) !== (id !== undefined)) return ERROR;
    if (!this.m.socket || link !== this.link) return ERROR;
    if (length < 1 || length > MAX_SEND) return ERROR;
    this.closeOrder.begin();
    void this.m.expectData(length, (data) => {
      const socket = this.m.socket;
      socket?.send(data);
      // MAN800 AT+CIPQSEND: 1 → `DATA ACCEPT:[<n>,]<length>`; 0 → `[<n>, ]SEND OK`.
      const line = !socket ? this.tagged('SEND FAIL') : this.quickSend === 1 ? `DATA ACCEPT:${this.mux === 1 ? `${link},` : ''}${length}` : this.tagged('SEND OK');
      void this.m.answer({ lines: [line], after: () => this.closeOrder.done(() => this.peerClosed()) });
    }, '\r\n> ');
    return {};
  }

  private read(id: string | undefined, hex: boolean, max: number): Reply {
    const link = Number(id ?? 0);
    if (this.rxGet !== 1) return ERROR;
    const prefix = this.mux === 1 ? `${link},` : '';
    if (link !== this.link || this.rx.bytes === 0) return { lines: [`+CIPRXGET: ${hex ? 3 : 2},${prefix}0,0`], final: 'OK' };
    const { take, rest } = this.rx.take(Math.min(max, hex ? MAX_READ / 2 : MAX_READ));
    // <reqlength>,<cnflength>: what this read carries, and (as the modules do, sim7600_24) what is left.
    const head = `\r\n+CIPRXGET: ${hex ? 3 : 2},${prefix}${take.length},${rest}\r\n`;
    const body = hex ? Buffer.from(take.toString('hex').toUpperCase(), 'latin1') : take;
    return { raw: Buffer.concat([Buffer.from(head, 'latin1'), body]), final: 'OK' };
  }

  private close(id: string | undefined): Reply {
    const link = Number(id ?? 0);
    if (!this.m.socket || link !== this.link) return ERROR;
    this.m.closeSocket();
    this.dropBuffered();
    this.state = 'TCP CLOSED';
    return { lines: [this.tagged('CLOSE OK')] };
  }

  received(data: Buffer): void {
    if (this.rxGet === 1) {
      if (this.rx.push(data)) this.m.urc(`+CIPRXGET: 1${this.mux === 1 ? `,${this.link}` : ''}`);
      return;
    }
    // MAN800 §8.2.2: `+RECEIVE,<n>,<length>:` with CIPMUX=1; `+IPD,<length>:` with CIPHEAD=1; else the bare bytes.
    const head = this.mux === 1 ? `\r\n+RECEIVE,${this.link},${data.length}:\r\n` : this.showHeader === 1 ? `\r\n+IPD,${data.length}:` : '';
    void this.m.write(Buffer.concat([Buffer.from(head, 'latin1'), data]));
  }

  protected dropBuffered(): void {
    this.rx.drop();
  }

  peerClosed(): void {
    if (this.closeOrder.hold()) return;
    this.state = 'TCP CLOSED';
    this.m.urc(this.tagged('CLOSED'));
  }

  networkLost(_hadSocket: boolean): void {
    // AN800 §2: the network deactivated the context; every link is gone and the state is PDP DEACT.
    this.dropBuffered();
    this.state = 'PDP DEACT';
    this.m.urc('+PDP: DEACT');
  }

  protected override detach(): void {
    super.detach();
    if (this.state === 'IP INITIAL') return;
    this.m.closeSocket();
    this.dropBuffered();
    this.state = 'PDP DEACT';
  }

  protected override leaveNetwork(): void {
    super.leaveNetwork();
    this.detach();
  }

  switchBaud(rate: number): void {
    this.baud = rate;
    this.m.port.setBaud(rate);
  }
}

/** `AT+CIFSR;E0` → [`AT+CIFSR`, `ATE0`]; a `;` inside quotes is not a separator. */
export function splitConcatenated(line: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let current = '';
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  if (parts.length === 1 || parts.some((p) => p.trim() === '')) return [line];
  return parts.map((p, i) => (i === 0 ? p : /^\+|^[A-Z&]/i.test(p) ? `AT${p}` : p).trim());
}

export const dialect: Dialect = {
  id: 'sim800',
  kind: 'cellular',
  description: 'SIMCom SIM800/SIM900/SIM868 2G (CSTT/CIICR/CIFSR, CIPSTART, CIPQSEND, CIPRXGET, transparent CIPMODE)',
  commands: ['AT+CCID', 'AT+CSPN?', 'AT+CLTS=1', 'AT+CIPSTATUS', 'AT+CIPMUX?', 'AT+CIPQSEND=1', 'AT+CIPRXGET=1', 'AT+CSTT?', 'AT+SAPBR=2,1'],
  create: (module, options) => new Sim800Handler(module, options),
};

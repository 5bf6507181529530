import { RxStore } from './rx-store.js';
import { Cellular3gpp, clockText, ERROR, OK, OPERATOR, PDP_ADDRESS } from './3gpp-base.js';
import type { Dialect } from './dialect.js';
import type { EmulatorOptions } from './option-types.js';
import { SendCloseOrder } from './send-close-order.js';
import type { Reply, VirtualModule } from './virtual-module.js';

// Quectel EC2x/EG25/EG9x/BG96/BG95 as their manuals show them: [QTCP] Quectel BG96 TCP/IP AT
// Commands Manual V1.0 (and EC2x&EG9x&EM05 TCP/IP AT Commands Manual V1.1, the same commands),
// [QAT] BG96 AT Commands Manual V2.3. Context with QICSGP/QIACT, sockets with QIOPEN in one of
// three access modes (0 buffer: +QIURC: "recv" then QIRD; 1 direct push: data follows the URC;
// 2 transparent: CONNECT), QISEND → SEND OK, QISEND=<id>,0 counters, QISTATE, QICLOSE,
// +QIURC: "closed" / "pdpdeact".

/** QISEND <send_length> is at most 1460 (QTCP §2.1.8). */
const MAX_SEND = 1460;
/** QIRD <read_length> is at most 1500 (QTCP §2.1.9). */
const MAX_READ = 1500;
/** QTCP §4 error codes. */
const SOCKET_IN_USE = 563;
const OPEN_FAILED = 566;
const PDP_BROKEN = 561;

type AccessMode = 0 | 1 | 2;

export class QuectelHandler extends Cellular3gpp {
  /** QICSGP contexts' APNs (context 1 is also the 27.007 context 1). */
  private active = false;
  private link = -1;
  private mode: AccessMode = 0;
  private localPort = 0;
  private readonly rx = new RxStore(() => this.m.socket);
  private counters = { sent: 0, received: 0, read: 0 };
  private readonly closeOrder = new SendCloseOrder();

  constructor(m: VirtualModule, o: EmulatorOptions) {
    super(m, o);
    // QAT AT+CMEE: factory value 1.
    this.defaultCmee = 1;
  }

  protected resetDialect(): void {
    this.active = false;
    this.link = -1;
    this.mode = 0;
    this.dropBuffered();
    this.counters = { sent: 0, received: 0, read: 0 };
    this.closeOrder.reset();
  }

  /** BG96 on LTE Cat M1: <AcT> 8 (QAT AT+COPS). */
  protected override accessTechnology(): number {
    return 8;
  }

  protected dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    // QAT §5.x AT+QCCID: `+QCCID: <iccid>`.
    if (up === 'AT+QCCID') return this.iccid('+QCCID: ');
    if (up === 'AT+QSPN?') return this.simError() ?? { lines: [`+QSPN: "${OPERATOR.long}","${OPERATOR.short}","",0,"${OPERATOR.numeric}"`], final: 'OK' };
    // QAT AT+QNWINFO: the family's "system information" (CPSI on SIMCom).
    if (up === 'AT+QNWINFO') {
      const info = this.registration.registered ? `"eMTC","${OPERATOR.numeric}","LTE BAND 3",1300` : '"No Service"';
      return { lines: [`+QNWINFO: ${info}`], final: 'OK' };
    }
    if (up === 'AT+QCSQ') return { lines: [this.registration.registered ? '+QCSQ: "eMTC",-70,-95,150,-10' : '+QCSQ: "NOSERVICE"'], final: 'OK' };
    // QAT AT+QLTS=<mode>: 0 last synchronised, 1 current GMT, 2 current local time.
    if ((m = /^AT\+QLTS(?:=([012]))?$/.exec(up))) return { lines: [`+QLTS: "${qltsText(new Date())}"`], final: 'OK' };
    if (/^AT\+Q(CFG|URCCFG|SCLK|INDCFG)=/.test(up) || /^AT\+QIDNSCFG=/.test(up)) return OK;
    if ((m = /^AT\+QICSGP=(\d{1,2}),([1-3]),"([^"]*)"(?:,"[^"]*",?"[^"]*"(?:,[0-3])?)?$/i.exec(line))) {
      this.contexts.set(Number(m[1]), { type: m[2] === '1' ? 'IP' : m[2] === '2' ? 'IPV6' : 'IPV4V6', apn: m[3]!, active: false });
      return OK;
    }
    if ((m = /^AT\+QICSGP=(\d{1,2})$/.exec(up))) {
      const c = this.contexts.get(Number(m[1]));
      return { lines: [`+QICSGP: ${c ? `1,"${c.apn}","","",0` : '1,"","","",0'}`], final: 'OK' };
    }
    if ((m = /^AT\+QIACT=(\d{1,2})$/.exec(up))) {
      // QTCP §2.1.4: activation waits for the network; a context that is already active is an error.
      if (!this.attached()) return ERROR;
      const cid = Number(m[1]);
      const context = this.contexts.get(cid) ?? { type: 'IP', apn: this.o.apn ?? '', active: false };
      if (context.active) return ERROR;
      context.active = true;
      this.contexts.set(cid, context);
      this.active = cid === 1 || this.active;
      return OK;
    }
    if (up === 'AT+QIACT?') {
      const lines = this.sortedContexts().filter(([, c]) => c.active).map(([cid]) => `+QIACT: ${cid},1,1,"${PDP_ADDRESS}"`);
      return { lines, final: 'OK' };
    }
    if ((m = /^AT\+QIDEACT=(\d{1,2})$/.exec(up))) {
      const context = this.contexts.get(Number(m[1]));
      if (context) context.active = false;
      if (Number(m[1]) === 1) this.deactivate();
      return OK;
    }
    if ((m = /^AT\+QIOPEN=(\d{1,2}),(\d{1,2}),"(TCP|UDP)","([^"]+)",(\d+)(?:,(\d+))?(?:,([012]))?$/i.exec(line))) {
      return this.open(Number(m[1]), Number(m[2]), m[3]!.toUpperCase(), m[4]!, Number(m[5]), Number(m[6] ?? 0), Number(m[7] ?? 0) as AccessMode);
    }
    if ((m = /^AT\+QISEND=(\d{1,2}),(\d+)$/.exec(up))) return this.send(Number(m[1]), Number(m[2]));
    if ((m = /^AT\+QIRD=(\d{1,2})(?:,(\d+))?$/.exec(up))) return this.read(Number(m[1]), m[2] === undefined ? MAX_READ : Number(m[2]));
    if ((m = /^AT\+QICLOSE=(\d{1,2})(?:,\d+)?$/.exec(up))) {
      if (Number(m[1]) === this.link && this.m.socket) {
        this.m.closeSocket();
        this.link = -1;
        this.dropBuffered();
      }
      return OK;
    }
    if ((m = /^AT\+QISTATE=([01]),(\d{1,2})$/.exec(up))) {
      const byContext = m[1] === '0';
      const n = Number(m[2]);
      const show = this.m.socket && (byContext ? n === 1 : n === this.link);
      return { lines: show ? [this.stateLine()] : [], final: 'OK' };
    }
    if (up === 'AT+QISTATE?' || up === 'AT+QISTATE') return { lines: this.m.socket ? [this.stateLine()] : [], final: 'OK' };
    if (up === 'AT+QIGETERROR') return { lines: ['+QIGETERROR: 0,operation successful'], final: 'OK' };
    if ((m = /^AT\+QISWTMD=(\d{1,2}),([012])$/.exec(up))) {
      if (Number(m[1]) !== this.link || !this.m.socket) return ERROR;
      this.mode = Number(m[2]) as AccessMode;
      if (this.mode === 2) return { after: () => void this.m.enterTransparent('\r\nCONNECT\r\n') };
      return OK;
    }
    if (up === 'ATO' || up === 'ATO0') {
      if (!this.m.socket || this.mode !== 2) return { final: 'NO CARRIER' };
      return { after: () => void this.m.enterTransparent('\r\nCONNECT\r\n') };
    }
    if (up === 'AT+QPOWD' || up === 'AT+QPOWD=1') return { final: 'OK', after: () => this.m.urc('POWERED DOWN') };
    return undefined;
  }

  /** QTCP §2.1.6: `+QISTATE: <id>,"TCP","<ip>",<port>,<local_port>,<state 2 = connected>,<cid>,<server>,<mode>,"uart1"`. */
  private stateLine(): string {
    const t = this.m.socketTarget!;
    return `+QISTATE: ${this.link},"TCP","${t.host}",${t.port},${this.localPort},2,1,0,${this.mode},"uart1"`;
  }

  private async open(cid: number, id: number, protocol: string, host: string, port: number, localPort: number, mode: AccessMode): Promise<Reply> {
    if (id > 11 || cid < 1 || cid > 16 || protocol !== 'TCP') return ERROR;
    if (!this.contexts.get(cid)?.active) return mode === 2 ? ERROR : { final: 'OK', after: () => this.m.urc(`+QIOPEN: ${id},${PDP_BROKEN}`) };
    if (this.m.socket) return mode === 2 ? ERROR : { final: 'OK', after: () => this.m.urc(`+QIOPEN: ${id},${SOCKET_IN_USE}`) };
    this.mode = mode;
    this.localPort = localPort || 50000 + id;
    if (mode === 2) {
      // QTCP §2.1.5: transparent mode answers CONNECT on success, ERROR on failure.
      const result = await this.m.openSocket(host, port);
      if (result !== 'ok') return ERROR;
      this.link = id;
      this.counters = { sent: 0, received: 0, read: 0 };
      return { after: () => void this.m.enterTransparent('\r\nCONNECT\r\n') };
    }
    return {
      final: 'OK',
      after: () => {
        void this.m.openSocket(host, port).then((result) => {
          if (result === 'ok') {
            this.link = id;
            this.counters = { sent: 0, received: 0, read: 0 };
          }
          this.m.urc(`+QIOPEN: ${id},${result === 'ok' ? 0 : OPEN_FAILED}`);
        });
      },
    };
  }

  private send(id: number, length: number): Reply {
    if (length === 0) {
      // QTCP §2.1.8: AT+QISEND=<id>,0 → total sent, acknowledged, unacknowledged.
      if (id !== this.link) return ERROR;
      return { lines: [`+QISEND: ${this.counters.sent},${this.counters.sent},0`], final: 'OK' };
    }
    if (!this.m.socket || id !== this.link) return ERROR;
    if (length > MAX_SEND) return ERROR;
    this.closeOrder.begin();
    void this.m.expectData(length, (data) => {
      const socket = this.m.socket;
      socket?.send(data);
      if (socket) this.counters.sent += length;
      void this.m.answer({ lines: [socket ? 'SEND OK' : 'SEND FAIL'], after: () => this.closeOrder.done(() => this.peerClosed()) });
    }, '\r\n> ');
    return {};
  }

  private read(id: number, max: number): Reply {
    // A connect id with no socket (never opened, or closed with AT+QICLOSE) is an error.
    if (id !== this.link) return ERROR;
    if (max === 0) {
      // QTCP §2.1.9: AT+QIRD=<id>,0 → total received, read, unread.
      return { lines: [`+QIRD: ${this.counters.received},${this.counters.read},${this.rx.bytes}`], final: 'OK' };
    }
    if (this.mode !== 0) return ERROR;
    if (this.rx.bytes === 0) return { lines: ['+QIRD: 0'], final: 'OK' };
    const { take } = this.rx.take(Math.min(max, MAX_READ));
    this.counters.read += take.length;
    const raw = Buffer.concat([Buffer.from(`\r\n+QIRD: ${take.length}\r\n`, 'latin1'), take, Buffer.from('\r\n', 'latin1')]);
    return { raw, final: 'OK' };
  }

  received(data: Buffer): void {
    this.counters.received += data.length;
    if (this.mode === 1) {
      // QTCP §2.1.5 direct push: `+QIURC: "recv",<id>,<len>` CR LF, then the bytes.
      void this.m.write(Buffer.concat([Buffer.from(`\r\n+QIURC: "recv",${this.link},${data.length}\r\n`, 'latin1'), data]));
      return;
    }
    // Buffer mode: one notice until the host has read everything (QTCP §2.1.9).
    if (this.rx.push(data)) this.m.urc(`+QIURC: "recv",${this.link}`);
  }

  private dropBuffered(): void {
    this.rx.drop();
  }

  peerClosed(): void {
    if (this.closeOrder.hold()) return;
    // QTCP §2.2.1: the host still closes it with AT+QICLOSE; unread data stays readable.
    this.m.urc(`+QIURC: "closed",${this.link}`);
  }

  private deactivate(): void {
    this.active = false;
    if (this.m.socket) this.m.closeSocket();
    this.link = -1;
    this.dropBuffered();
  }

  networkLost(_hadSocket: boolean): void {
    // QTCP §2.2.3: the context was deactivated by the network.
    const context = this.contexts.get(1);
    if (context) context.active = false;
    this.deactivate();
    this.m.urc('+QIURC: "pdpdeact",1');
  }

  protected override dataNetworkDown(): void {
    this.deactivate();
  }
}

/** `yy/MM/dd,hh:mm:ss+zz,dst` as AT+QLTS prints it (QAT; zone in quarter hours). */
function qltsText(date: Date): string {
  return `${date.getUTCFullYear()}/${clockText(date).slice(3, 8)},${clockText(date).slice(9)},0`;
}

export const dialect: Dialect = {
  id: 'quectel',
  kind: 'cellular',
  description: 'Quectel EC2x/EG25/EG9x/BG96/BG95 (QICSGP/QIACT, QIOPEN buffer/direct push/transparent, QISEND, QIRD, +QIURC)',
  commands: ['AT+QCCID', 'AT+QSPN?', 'AT+QNWINFO', 'AT+QCSQ', 'AT+QLTS=2', 'AT+QICSGP=1', 'AT+QIACT?', 'AT+QISTATE?', 'AT+QIGETERROR'],
  create: (module, options) => new QuectelHandler(module, options),
};

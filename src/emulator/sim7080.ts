import { RxStore } from './rx-store.js';
import { Cellular3gpp, ERROR, OK, OPERATOR, PDP_ADDRESS } from './3gpp-base.js';
import type { Dialect } from './dialect.js';
import type { EmulatorOptions } from './option-types.js';
import { SendCloseOrder } from './send-close-order.js';
import { Sim800Handler } from './sim800.js';
import type { Reply, VirtualModule } from './virtual-module.js';

// SIMCom SIM7070/SIM7080/SIM7090 (LTE Cat-M / NB-IoT) as its manuals show it: [MAN80]
// SIM7070_SIM7080_SIM7090 Series AT Command Manual V1.05 (§5 CNACT, §9 CA* TCP/UDP), [AN80]
// SIM7070_SIM7080_SIM7090 Series TCPIP Application Note V1.02. The application network is
// opened with AT+CNACT (→ +APP PDP: <pdpidx>,ACTIVE), sockets with AT+CAOPEN, data with AT+CASEND
// and AT+CARECV (buffered, announced by +CADATAIND), state with AT+CASTATE?.
// SIM7000 keeps the older CIPSTART family (SIM800's), with the LTE additions: Sim7000Handler below.

/** [guess] CASEND's largest <datalen>: taken as the 1460 of the SIMCom families' other send commands. */
const MAX_SEND = 1460;
/** CARECV <readlen> is 1..1460 (MAN80 §9.2.4). */
const MAX_READ = 1460;
/** +CAOPEN <result> codes (MAN80 §9.2.2): 0 success, 1 socket error, 21 network not active, 23 remote refused. */
const CAOPEN = { ok: 0, socketError: 1, networkNotActive: 21, refused: 23 } as const;

/** The serving-cell line of AT+CPSI? (MAN80 §5.2.x), Cat-M1 on band 3. */
function cpsi(registered: boolean): string {
  return registered ? '+CPSI: LTE CAT-M1,Online,001-01,0x1A2B,28177668,256,EUTRAN-BAND3,1300,5,5,-94,-850,-560,15' : '+CPSI: NO SERVICE,Online';
}

/** What SIM7000 and SIM7080 share beyond 27.007: network mode, Cat-M/NB preference, system info. */
function lteCommon(handler: { registered(): boolean }, up: string): Reply | undefined {
  if (up === 'AT+CPSI?') return { lines: [cpsi(handler.registered())], final: 'OK' };
  if (up === 'AT+CNMP?') return { lines: ['+CNMP: 38'], final: 'OK' };
  if (up === 'AT+CNMP=?') return { lines: ['+CNMP: ((2-Automatic),(13-GSM Only),(38-LTE Only),(51-GSM And LTE Only))'], final: 'OK' };
  if (up === 'AT+CMNB?') return { lines: ['+CMNB: 1'], final: 'OK' };
  if (up === 'AT+CMNB=?') return { lines: ['+CMNB: ((1-Cat-M),(2-NB-IoT),(3-Cat-M And NB-IoT))'], final: 'OK' };
  // <stat> 7 = LTE M1 (MAN80 AT+CNSMOD).
  if (up === 'AT+CNSMOD?') return { lines: [`+CNSMOD: 0,${handler.registered() ? 7 : 0}`], final: 'OK' };
  if (/^AT\+(CNMP|CMNB|CNSMOD|CLTS|CBATCHK|CSCLK|CPSMS|CEDRXS|CNBS|CBANDCFG)=/.test(up)) return OK;
  return undefined;
}

export class Sim7080Handler extends Cellular3gpp {
  /** AT+CNCFG / AT+CNACT: the application PDP contexts 0-3 (MAN80 §5.2). */
  private appActive = false;
  private cid = 0;
  private readonly rx = new RxStore(() => this.m.socket);
  private opened = false;
  /** The open socket was switched to transparent mode (AT+CASWITCH=<cid>,1): ATO may resume it. */
  private switched = false;
  private readonly closeOrder = new SendCloseOrder();

  constructor(m: VirtualModule, o: EmulatorOptions) {
    super(m, o);
    this.defaultCmee = 0;
  }

  protected resetDialect(): void {
    this.appActive = false;
    this.cid = 0;
    this.opened = false;
    this.switched = false;
    this.dropBuffered();
    this.closeOrder.reset();
  }

  private async toDataMode(): Promise<void> {
    await this.m.enterTransparent('\r\nCONNECT\r\n');
    if (this.rx.bytes > 0) await this.m.write(this.rx.take(this.rx.bytes).take);
  }

  registered(): boolean {
    return this.registration.registered;
  }

  protected dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    const lte = lteCommon(this, up);
    if (lte) return lte;
    if (up === 'AT+CCID') return this.iccid();
    if (up === 'AT+CSPN?') return this.simError() ?? { lines: [`+CSPN: "${OPERATOR.long}",0`], final: 'OK' };
    if (up === 'AT+CGNAPN') {
      const apn = this.contexts.get(1)?.apn ?? '';
      return { lines: [`+CGNAPN: ${this.attached() ? 1 : 0},"${apn}"`], final: 'OK' };
    }
    if (/^AT\+CNCFG=\d,\d(?:,"[^"]*"){0,3}(?:,\d)?$/.test(up)) return OK;
    if ((m = /^AT\+CNACT=(\d),([012])$/.exec(up))) {
      const pdp = Number(m[1]);
      if (pdp > 3) return ERROR;
      if (m[2] === '0') {
        const was = this.appActive;
        this.deactivate();
        return { final: 'OK', after: () => was && this.m.urc(`+APP PDP: ${pdp},DEACTIVE`) };
      }
      // MAN80 §5.2.2: OK, then +APP PDP: <pdpidx>,ACTIVE once the network gave an address.
      if (this.appActive) return ERROR;
      return {
        final: 'OK',
        after: () =>
          setTimeout(() => {
            this.appActive = this.attached();
            this.m.urc(`+APP PDP: ${pdp},${this.appActive ? 'ACTIVE' : 'DEACTIVE'}`);
          }, 10 + this.o.rttMs),
      };
    }
    if (up === 'AT+CNACT?') {
      const lines = [0, 1, 2, 3].map((i) => `+CNACT: ${i},${i === 0 && this.appActive ? `1,"${PDP_ADDRESS}"` : '0,"0.0.0.0"'}`);
      return { lines, final: 'OK' };
    }
    if ((m = /^AT\+CACID=(\d{1,2})$/.exec(up))) {
      if (Number(m[1]) > 12) return ERROR;
      return OK;
    }
    if (/^AT\+CASSLCFG=\d{1,2},/.test(up) || /^AT\+CACFG=/.test(up) || /^AT\+CSSLCFG=/.test(up)) return OK;
    if ((m = /^AT\+CAOPEN=(\d{1,2}),(\d),"(TCP|UDP)","([^"]+)",(\d+)(?:,\d)?$/i.exec(line))) return this.open(Number(m[1]), m[3]!.toUpperCase(), m[4]!, Number(m[5]));
    if ((m = /^AT\+CASEND=(\d{1,2}),(\d+)(?:,\d+)?$/.exec(up))) return this.send(Number(m[1]), Number(m[2]));
    if ((m = /^AT\+CARECV=(\d{1,2}),(\d+)$/.exec(up))) return this.read(Number(m[1]), Number(m[2]));
    if (up === 'AT+CARECV?') return { lines: this.opened ? [`+CARECV: ${this.cid},${this.rx.bytes}`] : [], final: 'OK' };
    if (up === 'AT+CASTATE?') return { lines: this.opened ? [`+CASTATE: ${this.cid},${this.m.socket ? 1 : 0}`] : [], final: 'OK' };
    if ((m = /^AT\+CACLOSE=(\d{1,2})$/.exec(up))) {
      if (!this.opened || Number(m[1]) !== this.cid) return ERROR;
      this.m.closeSocket();
      this.opened = false;
      this.switched = false;
      this.dropBuffered();
      return OK;
    }
    // AT+CASWITCH=<cid>,1 (SIM7000 manual V1.06 §18.2.9, MAN80 §9.2): OK, then CONNECT, and the line
    // carries the CA socket's bytes until +++; ATO goes back. [guess] bytes buffered before the
    // switch follow CONNECT rather than being dropped.
    if ((m = /^AT\+CASWITCH=(\d{1,2}),([01])$/.exec(up))) {
      if (!this.opened || !this.m.socket || Number(m[1]) !== this.cid) return ERROR;
      if (m[2] === '0') return OK;
      this.switched = true;
      return { final: 'OK', after: () => void this.toDataMode() };
    }
    if (up === 'ATO') {
      if (!this.switched || !this.m.socket) return { final: 'NO CARRIER' };
      return { after: () => void this.toDataMode() };
    }
    if (up === 'AT+CREBOOT') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
    if (up === 'AT+CPOWD=1') return { lines: ['NORMAL POWER DOWN'], after: () => this.m.close() };
    return undefined;
  }

  private async open(cid: number, protocol: string, host: string, port: number): Promise<Reply> {
    if (cid > 12 || protocol !== 'TCP') return ERROR;
    if (!this.appActive) return { lines: [`+CAOPEN: ${cid},${CAOPEN.networkNotActive}`], final: 'OK' };
    if (this.opened) return { lines: [`+CAOPEN: ${cid},${CAOPEN.socketError}`], final: 'OK' };
    const result = await this.m.openSocket(host, port);
    if (result !== 'ok') return { lines: [`+CAOPEN: ${cid},${result === 'refused' ? CAOPEN.refused : CAOPEN.socketError}`], final: 'OK' };
    this.cid = cid;
    this.opened = true;
    this.dropBuffered();
    return { lines: [`+CAOPEN: ${cid},${CAOPEN.ok}`], final: 'OK' };
  }

  private send(cid: number, length: number): Reply {
    if (!this.m.socket || cid !== this.cid) return ERROR;
    if (length < 1 || length > MAX_SEND) return ERROR;
    this.closeOrder.begin();
    void this.m.expectData(length, (data) => {
      const socket = this.m.socket;
      socket?.send(data);
      void this.m.answer({ final: socket ? 'OK' : 'ERROR', after: () => this.closeOrder.done(() => this.peerClosed()) });
    }, '\r\n>');
    return {};
  }

  /** MAN80 §9.2.4: `+CARECV: <recvlen>,<data>` (the bytes follow the comma), `+CARECV: 0` when empty. */
  private read(cid: number, max: number): Reply {
    if (!this.opened || cid !== this.cid) return ERROR;
    // [guess] a <readlen> above the range is served up to the range's end, not refused: TinyGSM asks for all that +CARECV? showed.
    if (max < 1) return ERROR;
    if (this.rx.bytes === 0) return { lines: ['+CARECV: 0'], final: 'OK' };
    const { take } = this.rx.take(Math.min(max, MAX_READ));
    const raw = Buffer.concat([Buffer.from(`\r\n+CARECV: ${take.length},`, 'latin1'), take, Buffer.from('\r\n', 'latin1')]);
    return { raw, final: 'OK' };
  }

  received(data: Buffer): void {
    // MAN80 §9.2: +CADATAIND: <cid> once, until the host has read the buffer.
    if (this.rx.push(data)) this.m.urc(`+CADATAIND: ${this.cid}`);
  }

  private dropBuffered(): void {
    this.rx.drop();
  }

  peerClosed(): void {
    if (this.closeOrder.hold()) return;
    // MAN80: +CASTATE: <cid>,0 when the connection is closed by the peer; unread bytes stay readable.
    this.m.urc(`+CASTATE: ${this.cid},0`);
  }

  private deactivate(): void {
    this.appActive = false;
    if (this.m.socket) this.m.closeSocket();
    this.opened = false;
    this.switched = false;
    this.dropBuffered();
  }

  networkLost(_hadSocket: boolean): void {
    const had = this.opened;
    const cid = this.cid;
    this.deactivate();
    if (had) this.m.urc(`+CASTATE: ${cid},0`);
    this.m.urc('+APP PDP: 0,DEACTIVE');
  }

  protected override dataNetworkDown(): void {
    this.deactivate();
  }
}

/**
 * SIM7000 (E/G/A, Cat-M/NB-IoT): the SIM800's CIPSTART family ([MAN70] SIM7000 Series AT Command
 * Manual V1.06 §8; TinyGSM's SIM7000 sends CSTT/CIICR/CIFSR/CIPSTART/CIPRXGET as to a SIM800) on
 * an LTE module: EPS registration (+CEREG), <AcT> 7 in +COPS, CPSI?, CNMP/CMNB, and +APP PDP none.
 */
export class Sim7000Handler extends Sim800Handler {
  protected override hasEps(): boolean {
    return true;
  }

  protected override accessTechnology(): number {
    return 7;
  }

  registered(): boolean {
    return this.registration.registered;
  }

  protected override dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    if (up === 'AT+COPS?') return undefined; // the 27.007 answer, with <AcT>
    return lteCommon(this, up) ?? super.dialectCommand(line, up);
  }
}

export const dialect: Dialect = {
  id: 'sim7080',
  kind: 'cellular',
  description: 'SIMCom SIM7070/SIM7080/SIM7090 Cat-M/NB-IoT (CNACT, CAOPEN/CASEND/CARECV, +CADATAIND, +CASTATE, transparent CASWITCH)',
  commands: ['AT+CCID', 'AT+CSPN?', 'AT+CPSI?', 'AT+CNMP?', 'AT+CMNB?', 'AT+CNSMOD?', 'AT+CGNAPN', 'AT+CNACT?', 'AT+CASTATE?', 'AT+CARECV?'],
  create: (module, options) => new Sim7080Handler(module, options),
};

export const sim7000Dialect: Dialect = {
  id: 'sim7000',
  kind: 'cellular',
  description: 'SIMCom SIM7000 Cat-M/NB-IoT (the SIM800 CIPSTART family on LTE; profile sim7080)',
  profile: 'sim7080',
  // The profile's identity is SIM7080's; a SIM7000E reports this revision (SIM7000 manual V1.06 AT+CGMR example).
  firmware: '1351B04SIM7000E',
  commands: ['AT+CCID', 'AT+CSPN?', 'AT+CPSI?', 'AT+CNMP?', 'AT+CMNB?', 'AT+CIPSTATUS', 'AT+CIPMUX?', 'AT+CIPQSEND=1', 'AT+CIPRXGET=1'],
  create: (module, options) => new Sim7000Handler(module, options),
};

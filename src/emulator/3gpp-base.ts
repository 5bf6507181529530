import type { EmulatorOptions } from './option-types.js';
import { Registration, type RegistrationKind } from './registration.js';
import type { FamilyHandler, Reply, VirtualModule } from './virtual-module.js';

// 3GPP TS 27.007 (and the few TS 27.005 SMS settings drivers touch at start), written once for
// every cellular family: SIM states, registration, signal, operator, PDP contexts, CME errors,
// identity, functionality level, time zone reporting and the clock. A family's dialect extends
// Cellular3gpp and adds its socket commands (and what it answers differently) in dialectCommand.

export const OK: Reply = { final: 'OK' };
export const ERROR: Reply = { final: 'ERROR' };

/** A SIM that says "busy" at power-on is ready this long after the banner (sim7600_12, _16). */
export const SIM_BUSY_MS = 3000;

export type SimNow = 'ready' | 'pin' | 'missing' | 'busy';

/** The operator the emulated network is: long, short and numeric names (TS 27.007 §7.3 <format> 0, 1, 2). */
export const OPERATOR = { long: 'atbridge emulated', short: 'atbridge', numeric: '00101' } as const;

/** A PDP context (TS 27.007 §10.1.1, +CGDCONT) and whether it is active (+CGACT). */
export interface PdpContext {
  type: string;
  apn: string;
  active: boolean;
}

/** The address an active context gets (any private address: there is no real network). */
export const PDP_ADDRESS = '10.64.0.2';

/**
 * What the base answers, as the lines drivers send during bring-up and status polling (TS 27.007
 * §5 identity, §7 network, §8 mobile equipment, §10 packet domain; TS 27.005 §3 SMS settings).
 * The command table (command-table.ts) probes every cellular dialect with these.
 */
export const STANDARD_COMMANDS: readonly string[] = [
  'ATI', 'AT+CGMI', 'AT+CGMM', 'AT+CGMR', 'AT+CGSN', 'AT+GMI', 'AT+GMM', 'AT+GMR', 'AT+GSN',
  'AT+CMEE=2', 'AT+CPIN?', 'AT+CIMI', 'AT+CSQ', 'AT+CREG?', 'AT+CGREG?', 'AT+CEREG?',
  'AT+COPS=3,0', 'AT+COPS?', 'AT+CFUN?', 'AT+CGDCONT?', 'AT+CGATT?', 'AT+CGACT?', 'AT+CGPADDR=1',
  'AT+CTZR=0', 'AT+CTZU=1', 'AT+CCLK?', 'AT+CMGF=1', 'AT+CNMI=2,1,0,0,0', 'AT+CSCA?',
];

export abstract class Cellular3gpp implements FamilyHandler {
  /** Factory AT+CMEE (SIMCom: 1, numeric codes). A dialect may start elsewhere. */
  protected defaultCmee = 1;
  protected cmee = 1;
  protected simUnlocked = false;
  private simBusyUntil = 0;
  private simTimer: NodeJS.Timeout | undefined;
  /** AT+CFUN: 1 full, 0 minimum, 4 flight mode (TS 27.007 §8.2). */
  protected cfun = 1;
  /** AT+COPS=3,<format> (TS 27.007 §7.3). */
  protected copsFormat = 0;
  protected ctzr = 0;
  /** AT+CTZU is a vendor command (SIMCom, Quectel); its factory value is 1, non-volatile (MAN §4.2.17). */
  protected defaultCtzu = 1;
  protected ctzu = 1;
  protected cmgf = 0;
  protected cnmi = '2,0,0,0,0';
  /** Offset the host set with AT+CCLK=, in ms from the host's clock. */
  private clockOffsetMs = 0;
  protected contexts = new Map<number, PdpContext>();
  /** The host detached with AT+CGATT=0 (attached again by CGATT=1 or a new registration). */
  private detached = false;
  readonly registration: Registration;

  constructor(
    protected readonly m: VirtualModule,
    protected readonly o: EmulatorOptions,
  ) {
    this.registration = new Registration(o.registerAfterMs, (line) => m.urc(line));
  }

  /** The family's own commands (sockets, its names for ICCID and system info); undefined = not known. */
  protected abstract dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined;

  /** The family's own state back to power-on values. */
  protected abstract resetDialect(): void;

  abstract received(data: Buffer): void;
  abstract peerClosed(): void;
  abstract networkLost(hadSocket: boolean): void;

  reset(): void {
    this.cmee = this.defaultCmee;
    this.simUnlocked = false;
    this.cfun = 1;
    this.copsFormat = 0;
    this.ctzr = 0;
    this.ctzu = this.defaultCtzu;
    this.cmgf = 0;
    this.cnmi = '2,0,0,0,0';
    this.clockOffsetMs = 0;
    this.detached = false;
    this.contexts = new Map(this.o.apn !== undefined ? [[1, { type: 'IP', apn: this.o.apn, active: false }]] : []);
    clearTimeout(this.simTimer);
    this.registration.reset();
    this.resetDialect();
  }

  // ---- power-on and the SIM ------------------------------------------------------------------

  /** The banner's first line at power-on; the SIM lines once the SIM is ready (later for a busy SIM, never for a missing one). */
  banner(): readonly string[] {
    const lines = this.m.profile.data.banner.lines;
    const [first = 'RDY'] = lines;
    if (this.o.sim === 'ready') return lines;
    // [guess] the SIM state URC comes with the ready line when the card wants a PIN, as +CPIN: READY does.
    if (this.o.sim === 'pin') return [first, '+CPIN: SIM PIN'];
    return [first];
  }

  /** What the module says once the SIM is ready (the banner after its first line). */
  protected simReadyLines(): readonly string[] {
    return this.m.profile.data.banner.lines.slice(1);
  }

  booted(): void {
    if (this.o.sim === 'ready') this.registration.startSearching();
    if (this.o.sim === 'busy') {
      this.simBusyUntil = Date.now() + SIM_BUSY_MS;
      this.simTimer = setTimeout(() => this.simBecameReady(), SIM_BUSY_MS);
    }
  }

  protected simBecameReady(): void {
    void this.m.writeLines(this.simReadyLines());
    if (this.cfun === 1) this.registration.startSearching();
  }

  protected simState(): SimNow {
    if (this.o.sim === 'pin') return this.simUnlocked ? 'ready' : 'pin';
    if (this.o.sim === 'busy') return Date.now() < this.simBusyUntil ? 'busy' : 'ready';
    return this.o.sim;
  }

  /** +CME ERROR as AT+CMEE says: off (ERROR), numeric, or verbose from the profile's cme table. */
  cme(code: number): Reply {
    if (this.cmee === 0) return ERROR;
    const text = this.m.profile.data.tables['cme']?.[String(code)];
    return { final: `+CME ERROR: ${this.cmee === 2 && text ? text : code}` };
  }

  /** The CME error a SIM command gets when the SIM is not usable, or undefined when it is. */
  protected simError(): Reply | undefined {
    const sim = this.simState();
    if (sim === 'missing') return this.cme(10);
    if (sim === 'busy') return this.cme(14);
    if (sim === 'pin') return this.cme(11);
    return undefined;
  }

  loseRegistration(ms: number | undefined): void {
    this.registration.lose(ms);
    // TS 27.007 §10.1.19: the network detached the module (reported with AT+CGEREP; SIMCom always says it).
    this.m.urc('+CGEV: NW DETACH');
  }

  // ---- commands ----------------------------------------------------------------------------------

  command(line: string): Reply | Promise<Reply> {
    const up = line.toUpperCase();
    return this.dialectCommand(line, up) ?? this.standardCommand(line, up) ?? ERROR;
  }

  /** TS 27.007 / 27.005 behaviour; undefined when the command is not one of them. */
  protected standardCommand(line: string, up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if ((m = /^AT\+CMEE=([012])$/.exec(up))) {
      this.cmee = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CMEE?') return { lines: [`+CMEE: ${this.cmee}`], final: 'OK' };
    if (up === 'AT+CPIN?') {
      const sim = this.simState();
      if (sim === 'missing') return this.cme(10);
      if (sim === 'busy') return this.cme(14);
      return { lines: [`+CPIN: ${sim === 'pin' ? 'SIM PIN' : 'READY'}`], final: 'OK' };
    }
    if ((m = /^AT\+CPIN="?(\d{4,8})"?$/.exec(up))) {
      const sim = this.simState();
      if (sim === 'missing') return this.cme(10);
      if (sim !== 'pin') return this.cme(3);
      if (m[1] !== this.o.pin) return this.cme(16);
      this.simUnlocked = true;
      return { final: 'OK', after: () => setTimeout(() => this.simBecameReady(), 5) };
    }
    if (up === 'AT+CSQ') return { lines: [this.simState() === 'ready' && this.cfun === 1 ? '+CSQ: 21,99' : '+CSQ: 99,99'], final: 'OK' };
    if ((m = /^AT\+(C|CG|CE)REG\?$/.exec(up))) return { lines: [this.registration.query(kindOf(m[1]!))], final: 'OK' };
    if ((m = /^AT\+(C|CG|CE)REG=([0-2])$/.exec(up))) {
      this.registration.setReporting(kindOf(m[1]!), Number(m[2]));
      return OK;
    }
    const cops = this.cops(up);
    if (cops) return cops;
    if (up === 'AT+CGATT?') return { lines: [`+CGATT: ${this.attached() ? 1 : 0}`], final: 'OK' };
    if ((m = /^AT\+CGATT=([01])$/.exec(up))) {
      // TS 27.007 §10.1.9: attach waits for the network; detach deactivates every context.
      if (m[1] === '1' && !this.registration.registered) return this.cme(30);
      this.detached = m[1] === '0';
      if (this.detached) this.detach();
      return OK;
    }
    const pdp = this.pdp(line, up);
    if (pdp) return pdp;
    const fun = this.functionality(up);
    if (fun) return fun;
    const id = this.identityCommand(up);
    if (id) return id;
    const time = this.time(line, up);
    if (time) return time;
    const sms = this.sms(up);
    if (sms) return sms;
    if (/^AT(&[DFWC]\d?|Z\d?|V1|Q0|&V)$/.test(up) || /^AT\+(CSCS|CGEREP|CLIP|CRC|CMGD)=/.test(up)) return OK;
    return undefined;
  }

  private cops(up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if (up === 'AT+COPS?') {
      if (!this.registration.registered) return { lines: ['+COPS: 0'], final: 'OK' };
      const name = [OPERATOR.long, OPERATOR.short, OPERATOR.numeric][this.copsFormat]!;
      return { lines: [`+COPS: 0,${this.copsFormat},"${name}",${this.accessTechnology()}`], final: 'OK' };
    }
    if ((m = /^AT\+COPS=3,([012])$/.exec(up))) {
      this.copsFormat = Number(m[1]);
      return OK;
    }
    if (/^AT\+COPS=0(?:,[012])?$/.test(up)) return OK;
    if (up === 'AT+COPS=?') {
      const tech = this.accessTechnology();
      return { lines: [`+COPS: (2,"${OPERATOR.long}","${OPERATOR.short}","${OPERATOR.numeric}",${tech}),,(0,1,2,3,4),(0,1,2)`], final: 'OK' };
    }
    return undefined;
  }

  /** <AcT> in +COPS (TS 27.007 §7.3): 7 = E-UTRAN; a 2G family answers 0. */
  protected accessTechnology(): number {
    return 7;
  }

  private pdp(line: string, up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if ((m = /^AT\+CGDCONT=(\d{1,2}),"([A-Z0-9]+)","([^"]*)"/i.exec(line))) {
      this.contexts.set(Number(m[1]), { type: m[2]!.toUpperCase(), apn: m[3]!, active: false });
      return OK;
    }
    if ((m = /^AT\+CGDCONT=(\d{1,2})$/.exec(up))) {
      this.contexts.delete(Number(m[1]));
      return OK;
    }
    if (up === 'AT+CGDCONT?') {
      const lines = this.sortedContexts().map(([cid, c]) => `+CGDCONT: ${cid},"${c.type}","${c.apn}","0.0.0.0",0,0,0,0`);
      return { lines, final: 'OK' };
    }
    if ((m = /^AT\+CGACT=([01])(?:,(\d{1,2}))?$/.exec(up))) {
      const on = m[1] === '1';
      const cids = m[2] !== undefined ? [Number(m[2])] : [...this.contexts.keys()];
      if (on && !this.registration.registered) return this.cme(30);
      if (on) this.detached = false;
      for (const cid of cids) {
        const context = this.contexts.get(cid);
        if (!context) return on ? this.cme(148) : OK;
        context.active = on;
      }
      return OK;
    }
    if (up === 'AT+CGACT?') return { lines: this.sortedContexts().map(([cid, c]) => `+CGACT: ${cid},${c.active ? 1 : 0}`), final: 'OK' };
    if ((m = /^AT\+CGPADDR(?:=(\d{1,2}))?$/.exec(up))) {
      const wanted = m[1] !== undefined ? [Number(m[1])] : [...this.contexts.keys()];
      const lines = this.sortedContexts()
        .filter(([cid]) => wanted.includes(cid))
        .map(([cid, c]) => `+CGPADDR: ${cid},${this.contextAddress(c)}`);
      return { lines, final: 'OK' };
    }
    if (/^AT\+CGAUTH=/.test(up)) return OK;
    return undefined;
  }

  /** Packet-domain attached: registered and not detached by the host. */
  protected attached(): boolean {
    return this.registration.registered && !this.detached;
  }

  /** AT+CGATT=0: contexts deactivated; a dialect also closes its data network. */
  protected detach(): void {
    for (const context of this.contexts.values()) context.active = false;
    this.dataNetworkDown();
  }

  /** Detach or CFUN=0/4 took the data network away: a dialect closes its sockets here. */
  protected dataNetworkDown(): void {}

  protected sortedContexts(): [number, PdpContext][] {
    return [...this.contexts].sort(([a], [b]) => a - b);
  }

  /** +CGPADDR's address: bare, as SIMCom prints it (`+CGPADDR: 1,10.71.155.118`); a dialect may quote it. */
  protected contextAddress(context: PdpContext): string {
    return context.active ? PDP_ADDRESS : '0.0.0.0';
  }

  /** AT+CFUN (TS 27.007 §8.2): 0 and 4 leave the network, 1 searches again, <rst>=1 restarts. */
  private functionality(up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if (up === 'AT+CFUN?') return { lines: [`+CFUN: ${this.cfun}`], final: 'OK' };
    if ((m = /^AT\+CFUN=([0-9]+)(?:,([01]))?$/.exec(up))) {
      const fun = Number(m[1]);
      if (![0, 1, 4].includes(fun)) return this.cme(4);
      if (m[2] === '1') return { final: 'OK', after: () => setTimeout(() => this.m.inject({ kind: 'reboot' }), 20) };
      const was = this.cfun;
      this.cfun = fun;
      if (fun !== 1 && was === 1) this.leaveNetwork();
      if (fun === 1 && was !== 1 && this.simState() === 'ready') this.registration.startSearching();
      return OK;
    }
    return undefined;
  }

  /** CFUN=0/4: registration and data gone. A dialect closes its sockets too. */
  protected leaveNetwork(): void {
    this.registration.reset();
    for (const context of this.contexts.values()) context.active = false;
    this.dataNetworkDown();
  }

  /** Identity (TS 27.007 §5): IMEI, IMSI, and manufacturer/model/revision from the profile. */
  private identityCommand(up: string): Reply | undefined {
    if (/^AT\+C?GSN$/.test(up)) return { lines: [this.imei()], final: 'OK' };
    if (up === 'AT+CGSN=1') return { lines: [`+CGSN: "${this.imei()}"`], final: 'OK' };
    if (up === 'AT+CIMI') return this.simError() ?? { lines: [this.o.imsi], final: 'OK' };
    // GMI/GMM/GMR (V.25ter) and CGMI/CGMM/CGMR (27.007) give the same; the profile names one of each pair.
    const alias = /^AT\+(C?)(GM[IMR])$/.exec(up);
    if (alias) {
      const other = this.m.identity(`AT+${alias[1] ? '' : 'C'}${alias[2]}`);
      if (other) return { lines: other.map((l) => l.replace(/^\+C?GM[IMR]: ?/, '')), final: 'OK' };
    }
    return undefined;
  }

  /** The IMEI: the emulator option, else the one the profile's identification shows. */
  imei(): string {
    return this.o.imei ?? this.profileImei() ?? '861234050000000';
  }

  private profileImei(): string | undefined {
    const identity = this.m.profile.data.emulator?.identity ?? {};
    for (const command of ['AT+CGSN', 'AT+GSN']) {
      const found = /(?:^|\s)(\d{15})$/.exec(identity[command]?.[0] ?? '');
      if (found) return found[1];
    }
    for (const lines of Object.values(identity)) {
      for (const line of lines ?? []) {
        const found = /IMEI:\s*(\d{15})/.exec(line);
        if (found) return found[1];
      }
    }
    return undefined;
  }

  /** With --imei, the profile's identification answers carry that IMEI instead of their own. */
  identity(command: string): string[] | undefined {
    const own = this.o.imei;
    const lines = this.m.profile.data.emulator?.identity[command];
    const shown = this.profileImei();
    if (!own || !lines || !shown) return undefined;
    return lines.map((l) => l.split(shown).join(own));
  }

  /** The ICCID line a family prints (its command and prefix are the dialect's). */
  protected iccid(prefix = ''): Reply {
    return this.simError() ?? { lines: [`${prefix}${this.o.iccid}`], final: 'OK' };
  }

  // ---- time zone and clock ---------------------------------------------------------------------

  private time(line: string, up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if ((m = /^AT\+CTZ([RU])=([012])$/.exec(up))) {
      if (m[1] === 'R') this.ctzr = Number(m[2]);
      else this.ctzu = Number(m[2]);
      return OK;
    }
    if (up === 'AT+CTZR') this.ctzr = 0;
    if (up === 'AT+CTZR') return OK;
    if (up === 'AT+CTZR=?') return { lines: ['+CTZR: (0-2)'], final: 'OK' };
    if (up === 'AT+CTZU=?') return { lines: ['+CTZU: (0,1)'], final: 'OK' };
    if (up === 'AT+CTZR?') return { lines: [`+CTZR: ${this.ctzr}`], final: 'OK' };
    if (up === 'AT+CTZU?') return { lines: [`+CTZU: ${this.ctzu}`], final: 'OK' };
    if (up === 'AT+CCLK?') return { lines: [`+CCLK: "${clockText(new Date(Date.now() + this.clockOffsetMs))}"`], final: 'OK' };
    if ((m = /^AT\+CCLK="(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)?"$/i.exec(line))) {
      const [, yy, mo, dd, hh, mi, ss, tz] = m;
      const quarters = Number(tz ?? 0);
      const utc = Date.UTC(2000 + Number(yy), Number(mo) - 1, Number(dd), Number(hh), Number(mi), Number(ss)) - quarters * 15 * 60_000;
      if (Number.isNaN(utc)) return this.cme(4);
      this.clockOffsetMs = utc - Date.now();
      return OK;
    }
    return undefined;
  }

  // ---- SMS settings (TS 27.005 §3): what drivers set at start; nothing is ever sent --------------

  private sms(up: string): Reply | undefined {
    let m: RegExpExecArray | null;
    if ((m = /^AT\+CMGF=([01])$/.exec(up))) {
      this.cmgf = Number(m[1]);
      return OK;
    }
    if (up === 'AT+CMGF?') return { lines: [`+CMGF: ${this.cmgf}`], final: 'OK' };
    if ((m = /^AT\+CNMI=([0-3](?:,[0-3]){0,4})$/.exec(up))) {
      this.cnmi = m[1]!;
      return OK;
    }
    if (up === 'AT+CNMI?') return { lines: [`+CNMI: ${this.cnmi}`], final: 'OK' };
    if (up === 'AT+CSCA?') return this.simError() ?? { lines: [`+CSCA: "${this.o.smsc}",145`], final: 'OK' };
    return undefined;
  }
}

/** `yy/MM/dd,hh:mm:ss+zz` in UTC (TS 27.007 §8.15, zone in quarter hours). */
export function clockText(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCFullYear() % 100)}/${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())},${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}+00`;
}

export function kindOf(prefix: string): RegistrationKind {
  return prefix === 'C' ? 'CREG' : prefix === 'CG' ? 'CGREG' : 'CEREG';
}

import type { Dialect } from './dialect.js';
import type { AccessPoint, EmulatorOptions } from './option-types.js';
import { SendCloseOrder } from './send-close-order.js';
import type { FamilyHandler, Reply, VirtualModule } from './virtual-module.js';
import { sleep } from './virtual-module.js';
import { hostAllowed } from './net-bridge.js';

const OK: Reply = { final: 'OK' };
const ERROR: Reply = { final: 'ERROR' };
/** Passive receive keeps a 5760-byte socket window; when it is full TCP stalls (DOC CIPRECVTYPE). */
const PASSIVE_WINDOW = 5760;
/** One active-mode +IPD carries at most this much (DOC CIPRECVTYPE). */
const MAX_IPD = 2920;
/** The station's address while joined, and the AP's network (DHCP from the emulated AP). */
const STATION = { ip: '192.168.4.23', gateway: '192.168.4.1', netmask: '255.255.255.0' };
/** Until SNTP has synchronised, the clock counts from the epoch at boot (esp-at issue #315, WiFiEspAT #8). */
const SNTP_SYNC_MS = 1000;

/**
 * Commands by the ESP-AT version that added them and the one whose manual no longer has them
 * (esp-at docs/en/AT_Command_Set at each tag: AT+CWSTATE first in v2.2.0.0, AT+CIPSTATE in
 * v2.3.0.0, AT+CIPSTATUS marked deprecated in v3.0.0.0 and gone from the v4.1.0.0 manual).
 * A command outside its range answers ERROR, as on a module with that firmware.
 */
const VERSIONS: Record<string, { since?: string; until?: string }> = {
  CWSTATE: { since: '2.2' },
  CIPSTATE: { since: '2.3' },
  CIPSTATUS: { until: '4.1' },
};

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
  /** Wi-Fi state for AT+CWSTATE / AT+CIPSTATUS: never tried, joining, failed or left, joined. */
  private wifi: 'idle' | 'joining' | 'off-ap' | 'joined' = 'idle';
  /** A connection was made since the join (AT+CIPSTATUS 4 once it is gone). */
  private hadLink = false;
  /** The SSID last joined or tried (AT+CWSTATE). */
  private lastSsid = '';
  private sntp: { enabled: boolean; timezone: string; servers: string[]; since: number } = { enabled: false, timezone: '0', servers: [], since: 0 };
  private bootedAt = Date.now();
  /** A static address set with AT+CIPSTA=. */
  private staticIp: typeof STATION | undefined;

  constructor(
    protected readonly m: VirtualModule,
    protected readonly o: EmulatorOptions,
  ) {
    this.baud = o.baud;
  }

  /** The largest AT+CIPSEND length (DOC AT+CIPSEND: 8192 bytes). */
  protected get maxSend(): number {
    return 8192;
  }

  /** How long after `Recv n bytes` SEND OK comes (0: at once). */
  protected get sendConfirmMs(): number {
    return 0;
  }

  /** Passive receive (AT+CIPRECVMODE, AT+CIPRECVDATA, AT+CIPRECVLEN?) is there. */
  protected get hasPassive(): boolean {
    return true;
  }

  /** How a join that failed ends: `+CWJAP:<reason>` then ERROR (DOC AT+CWJAP). */
  protected joinFailed(code: number): Reply {
    return { lines: [`+CWJAP:${code}`], final: 'ERROR' };
  }

  /** AT+CIPDOMAIN's answer: `+CIPDOMAIN:"<ip>"` (DOC22), or ERROR. */
  protected domainReply(ip: string | undefined): Reply {
    return ip ? { lines: [`+CIPDOMAIN:"${ip}"`], final: 'OK' } : ERROR;
  }

  /** asctime(3): `Thu Jan  1 00:02:08 1970` (space-padded day, as esp-at issue #315 shows it). */
  protected clockText(d: Date): string {
    return asctime(d, ' ');
  }

  /** The version's command set: false for a command this firmware does not have. */
  protected hasCommand(name: string): boolean {
    const range = VERSIONS[name];
    if (!range) return true;
    const version = this.m.firmwareVersion() ?? '';
    if (range.since && compareVersions(version, range.since) < 0) return false;
    if (range.until && compareVersions(version, range.until) >= 0) return false;
    return true;
  }

  /** `localhost`, an IPv4 literal, or a name given with --dns. */
  protected resolve(host: string): string | undefined {
    if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return host;
    if (/^localhost$/i.test(host)) return '127.0.0.1';
    return this.o.dns?.[host.toLowerCase()];
  }

  reset(): void {
    this.joined = undefined;
    this.wifi = 'idle';
    this.hadLink = false;
    this.lastSsid = '';
    this.sntp = { enabled: false, timezone: '0', servers: [], since: 0 };
    this.bootedAt = Date.now();
    this.staticIp = undefined;
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
    this.wifi = 'joined';
    this.lastSsid = ap.ssid;
    this.m.urc('WIFI CONNECTED');
    this.m.urc('WIFI GOT IP');
  }

  /** `CLOSED` or `<id>,CLOSED`, and the same for CONNECT. */
  private tagged(word: string): string {
    return this.mux === 1 ? `${this.link},${word}` : word;
  }

  command(line: string): Reply | Promise<Reply> {
    const up = line.toUpperCase();
    const name = /^AT\+([A-Z_]+)/.exec(up)?.[1];
    if (name && !this.hasCommand(name)) return ERROR;
    if (!this.hasPassive && /^AT\+CIPRECV(MODE|TYPE|DATA|LEN)/.test(up)) return ERROR;
    return this.stationCommand(line, up) ?? this.baseCommand(line, up);
  }

  /** Station state, addresses, names and time: AT+CWSTATE?, AT+CIPSTA, AT+CIPDOMAIN, SNTP, AT+PING, AT+CIPSTATE?. */
  private stationCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    if (up === 'AT+CWSTATE?') {
      const state = { idle: 0, joining: 3, 'off-ap': 4, joined: 2 }[this.wifi];
      return { lines: [`+CWSTATE:${state},"${escape(this.wifi === 'idle' ? '' : this.lastSsid)}"`], final: 'OK' };
    }
    if (up === 'AT+CIPSTA?') {
      // DOC22: the address can be queried only while on an AP or with a static address.
      const addr = this.address();
      if (!addr) return { lines: ['+CIPSTA:ip:"0.0.0.0"', '+CIPSTA:gateway:"0.0.0.0"', '+CIPSTA:netmask:"0.0.0.0"'], final: 'OK' };
      return { lines: [`+CIPSTA:ip:"${addr.ip}"`, `+CIPSTA:gateway:"${addr.gateway}"`, `+CIPSTA:netmask:"${addr.netmask}"`], final: 'OK' };
    }
    if ((m = /^AT\+CIPSTA="(\d{1,3}(?:\.\d{1,3}){3})"(?:,"(\d{1,3}(?:\.\d{1,3}){3})","(\d{1,3}(?:\.\d{1,3}){3})")?$/.exec(up))) {
      this.staticIp = { ip: m[1]!, gateway: m[2] ?? STATION.gateway, netmask: m[3] ?? STATION.netmask };
      return OK;
    }
    if ((m = /^AT\+CIPDOMAIN="([^"]+)"(?:,([123]))?$/i.exec(line))) {
      if (!this.joined) return this.domainReply(undefined);
      const ip = this.resolve(m[1]!);
      return (async () => {
        await sleep(this.o.rttMs);
        return this.domainReply(ip);
      })();
    }
    if ((m = /^AT\+CIPSNTPCFG=([01])(?:,(-?\+?\d{1,4}))?((?:,"[^"]*"){0,3})$/i.exec(line))) {
      const timezone = m[2] ?? '0';
      if (!validTimezone(timezone)) return ERROR;
      const servers = [...(m[3] ?? '').matchAll(/"([^"]*)"/g)].map((s) => s[1]!);
      this.sntp = { enabled: m[1] === '1', timezone: String(Number(timezone)), servers, since: Date.now() };
      return OK;
    }
    if (up === 'AT+CIPSNTPCFG?') {
      // [guess] unconfigured: enable 0, timezone 0, no servers listed.
      const servers = this.sntp.servers.map((s) => `,"${s}"`).join('');
      return { lines: [`+CIPSNTPCFG:${this.sntp.enabled ? 1 : 0},${this.sntp.timezone}${servers}`], final: 'OK' };
    }
    if (up === 'AT+CIPSNTPTIME?') return { lines: [`+CIPSNTPTIME:${this.clockText(this.clock())}`], final: 'OK' };
    if ((m = /^AT\+PING="([^"]+)"$/i.exec(line))) return this.ping(m[1]!);
    if (up === 'AT+CIPSTATE?') {
      const target = this.m.socketTarget;
      return { lines: this.m.socket && target ? [`+CIPSTATE:${this.link},"TCP","${target.host}",${target.port},40000,0`] : [], final: 'OK' };
    }
    return undefined;
  }

  private address(): typeof STATION | undefined {
    return this.staticIp ?? (this.joined ? STATION : undefined);
  }

  /**
   * The host's clock in the configured zone once SNTP is on and has had time to synchronise
   * while on an AP; before that the module's clock, counting from 1970 at boot.
   */
  private clock(): Date {
    const synced = this.sntp.enabled && this.joined !== undefined && Date.now() - this.sntp.since >= SNTP_SYNC_MS + this.o.rttMs;
    if (!synced) return new Date(Date.now() - this.bootedAt);
    return new Date(Date.now() + timezoneMinutes(this.sntp.timezone) * 60_000);
  }

  /** Only what the emulator can reach answers: loopback and allowed hosts, after the round trip. */
  private async ping(host: string): Promise<Reply> {
    const ip = this.resolve(host);
    const reachable = this.joined !== undefined && ip !== undefined && hostAllowed(ip, this.o.allowHosts);
    await sleep(reachable ? this.o.rttMs : PING_TIMEOUT_MS);
    if (!reachable) return { lines: ['+PING:TIMEOUT'], final: 'ERROR' };
    return { lines: [`+PING:${Math.max(1, this.o.rttMs)}`], final: 'OK' };
  }

  private baseCommand(line: string, up: string): Reply | Promise<Reply> {
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
    // ESP-AT has no AT+CWJAP_CUR/_DEF (DOC22 AT_Command_Set_Comparison: "will not be added"); ESP8266 AT 1.x maps them here.
    if ((m = /^AT\+CWJAP="((?:[^"\\]|\\.)*)","((?:[^"\\]|\\.)*)"/i.exec(line))) return this.join(unescape(m[1]!), unescape(m[2]!));
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
      return { lines: [`+CIFSR:STAIP,"${this.address()?.ip ?? '0.0.0.0'}"`, '+CIFSR:STAMAC,"a4:cf:12:00:00:02"'], final: 'OK' };
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
    if (up === 'AT+CIPRECVMODE?') return { lines: [`+CIPRECVMODE:${this.passive ? 1 : 0}`], final: 'OK' };
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
    // DOC22 AT+CIPSTATUS: 2 on an AP with an IP, 3 a connection open, 4 all connections closed
    // again, 5 not on an AP (espat_13: 5 before any join, too).
    const status = !this.joined ? 5 : this.m.socket ? 3 : this.hadLink ? 4 : 2;
    const lines = [`STATUS:${status}`];
    const target = this.m.socketTarget;
    if (target && this.m.socket) lines.push(`+CIPSTATUS:${this.link},"TCP","${target.host}",${target.port},40000,0`);
    return { lines, final: 'OK' };
  }

  private async join(ssid: string, password: string): Promise<Reply> {
    if (this.mode !== 1 && this.mode !== 3) return ERROR;
    if (this.joined) this.disconnect();
    const ap = this.o.accessPoints.find((a) => a.ssid === ssid);
    this.wifi = 'joining';
    this.lastSsid = ssid;
    // An AP that never answers costs the whole join timeout (espat_11: ~15 s of busy p...).
    await sleep(ap?.failCode === 1 ? this.o.joinTimeoutMs : this.o.joinMs);
    const failed = !ap ? 3 : ap.failCode ?? (ap.password !== password ? 2 : undefined);
    if (failed !== undefined) {
      this.wifi = 'off-ap';
      return this.joinFailed(failed);
    }
    this.joined = ap;
    this.wifi = 'joined';
    this.hadLink = false;
    return { lines: ['WIFI CONNECTED', 'WIFI GOT IP'], final: 'OK' };
  }

  /** Leaves the AP: the socket goes first (espat_15: CLOSED, then WIFI DISCONNECT). */
  protected disconnect(): void {
    if (!this.joined) return;
    this.joined = undefined;
    this.wifi = 'off-ap';
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
    const result = await this.m.openSocket(this.resolve(host) ?? host, port);
    this.link = link;
    // Failure: ERROR, then CLOSED (espat_08, _30).
    if (result !== 'ok') return { final: 'ERROR', after: () => this.m.urc(this.tagged('CLOSED')) };
    this.dropBuffered();
    this.hadLink = true;
    return { lines: [this.tagged('CONNECT')], final: 'OK' };
  }

  private send(link: number, length: number): Reply {
    if (this.cipMode !== 0 || !this.m.socket || link !== this.link) return { lines: ['link is not valid'], final: 'ERROR' };
    if (length < 1 || length > this.maxSend) return ERROR;
    // OK, blank, '>' (DOC; V020 prints "\r\n>"), then exactly `length` bytes.
    this.closeOrder.begin();
    void this.m.writeLines(['OK']).then(() =>
      this.m.expectData(length, (data) => {
        const socket = this.m.socket;
        socket?.send(data);
        const after = () => this.closeOrder.done(() => this.peerClosed());
        const delay = socket ? this.sendConfirmMs : 0;
        if (delay <= 0) return void this.m.answer({ lines: [`Recv ${length} bytes`], final: socket ? 'SEND OK' : 'SEND FAIL', after });
        // `Recv n bytes` at once, SEND OK once the data is out (the module is "sending" meanwhile).
        void this.m.writeLines([`Recv ${length} bytes`]);
        return sleep(delay).then(() => this.m.answer({ final: 'SEND OK', after }));
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
    this.wifi = 'off-ap';
    this.dropBuffered();
    // [guess] An AP lost under the module is reported first, the dead link after it; a deliberate
    // leave (CWQAP, RST) closes the link first (espat_15).
    this.m.urc('WIFI DISCONNECT');
    if (hadSocket) this.m.urc(this.tagged('CLOSED'));
  }
}

/** A ping to what does not answer gives up after this long [guess: the docs give no timeout]. */
const PING_TIMEOUT_MS = 1000;

/** `2.2.0.0` against `2.2`: negative, zero or positive, numerically part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** DOC22 AT+CIPSNTPCFG: whole hours -12..14, or [+|-][hh]mm with hh -12..14 and mm 0..59. */
function validTimezone(text: string): boolean {
  const n = Number(text);
  if (!Number.isInteger(n)) return false;
  if (n >= -12 && n <= 14) return true;
  const abs = Math.abs(n);
  const hours = Math.trunc(abs / 100);
  return abs % 100 <= 59 && hours <= (n < 0 ? 12 : 14);
}

function timezoneMinutes(text: string): number {
  const n = Number(text);
  if (n >= -12 && n <= 14) return n * 60;
  const sign = n < 0 ? -1 : 1;
  const abs = Math.abs(n);
  return sign * (Math.trunc(abs / 100) * 60 + (abs % 100));
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Thu Jan  1 00:02:08 1970` (pad ' ', asctime) or `Thu Jan 01 00:00:00 1970` (pad '0'); the Date's UTC fields. */
export function asctime(d: Date, pad: ' ' | '0'): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, pad)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
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
  // What drivers (TinyGSM, esp_modem, Adafruit, WiFiEspAT) send at bring-up and while polling (ESP-AT v2.2 manual).
  commands: [
    'AT+GMR', 'AT+CWMODE?', 'AT+CWMODE=1', 'AT+CWJAP="atbridge-lab","correct horse"', 'AT+CWSTATE?', 'AT+CWJAP?', 'AT+CIPSTA?', 'AT+CIFSR', 'AT+CIPMUX=0', 'AT+CIPSTATUS',
    'AT+CIPSTATE?', 'AT+CIPRECVMODE?', 'AT+CIPDOMAIN="localhost"', 'AT+CIPSNTPCFG?', 'AT+CIPSNTPTIME?', 'AT+PING="127.0.0.1"', 'AT+SYSSTORE=0',
  ],
  create: (module, options) => new EspAtHandler(module, options),
};

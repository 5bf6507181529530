import type { Dialect } from './dialect.js';
import { asctime, compareVersions, EspAtHandler } from './esp-at.js';
import type { Reply } from './virtual-module.js';

/**
 * Espressif's ESP8266 NonOS AT firmware 1.x (the stock firmware of ESP-01 boards), as its
 * "ESP8266 AT Instruction Set" and the field logs show it, on top of ESP-AT 2.x:
 * - `_CUR` (this session) and `_DEF` (saved) forms of the Wi-Fi commands (AT+CWMODE_CUR,
 *   AT+CWJAP_CUR, AT+CIPSTA_CUR, …), besides the plain (deprecated) ones;
 * - a refused join ends `+CWJAP:<reason>` then `FAIL` (TinyGSM and WiFiEsp wait for FAIL);
 * - SEND OK a round trip after the data; a command line typed meanwhile gets `busy s...`;
 * - received data is always pushed as `+IPD` (passive receive came with AT 1.7, espat_07);
 * - one send carries at most 2048 bytes; AT+CWSTATE / AT+CIPSTATE (ESP-AT 2.2+) do not exist;
 * - AT+CIPDOMAIN answers the address unquoted, or `DNS Fail`; the SNTP clock pads the day with 0.
 */
export class EspAt1Handler extends EspAtHandler {
  readonly busyWhileSending = 'busy s...';

  /** The stock ESP-01 firmware's AT+GMR. */
  identity(command: string): string[] | undefined {
    if (command !== 'AT+GMR') return undefined;
    const version = this.o.firmware ?? DEFAULT_VERSION;
    return [`AT version:${version}(Jul  1 2016 20:04:45)`, 'SDK version:1.5.4.1(39cb9a32)', 'Ai-Thinker Technology Co. Ltd.', 'Dec  2 2016 14:21:16'];
  }

  /**
   * The ESP8266's boot ROM and second-stage loader print on the AT UART before `ready`
   * (espat_15: ` ets Jan  8 2013,rst cause:…`, the load/tail/chksum lines, `2nd boot version`,
   * `jump to run user1`, then a few bytes of garbage at the SDK's start-up rate).
   */
  override banner(): readonly string[] {
    return [...BOOT_ROM, BOOT_GARBAGE, ...super.banner()];
  }

  /** AT+RST: OK, then the link and the AP are dropped and reported before the reboot (espat_15). */
  override command(line: string): Reply | Promise<Reply> {
    if (/^AT\+RST$/i.test(line)) {
      return {
        final: 'OK',
        after: () => {
          this.disconnect();
          setTimeout(() => this.m.inject({ kind: 'reboot' }), 20);
        },
      };
    }
    return this.suffixed(line);
  }

  /**
   * NonOS AT reports SEND OK once the segment is acknowledged, a network round trip after the
   * data (the ESP8266 AT Instruction Set's `busy s...` note: the module is still sending).
   */
  protected override get sendConfirmMs(): number {
    return this.o.rttMs;
  }

  protected override get maxSend(): number {
    return 2048;
  }

  protected override get hasPassive(): boolean {
    return compareVersions(this.version, '1.7') >= 0;
  }

  protected override joinFailed(code: number): Reply {
    return { lines: [`+CWJAP:${code}`], final: 'FAIL' };
  }

  protected override domainReply(ip: string | undefined): Reply {
    return ip ? { lines: [`+CIPDOMAIN:${ip}`], final: 'OK' } : { lines: ['DNS Fail'], final: 'ERROR' };
  }

  /** `Thu Jan 01 00:00:00 1970` (WiFiEspAT issue #8, AT 1.7). */
  protected override clockText(d: Date): string {
    return asctime(d, '0');
  }

  protected override hasCommand(name: string): boolean {
    if (name === 'CWSTATE' || name === 'CIPSTATE') return false;
    // AT+SYSSTORE came with AT 1.7 (espat_07 sends it to a 1.7 module).
    if (name === 'SYSSTORE') return compareVersions(this.version, '1.7') >= 0;
    return true;
  }

  private suffixed(line: string): Reply | Promise<Reply> {
    // AT+CWMODE_CUR=1, AT+CWJAP_DEF="ssid","pw", AT+CIPSTA_CUR? …: the plain command, its answer
    // under the suffixed name (+CWJAP_CUR:…).
    const m = /^AT\+(CWMODE|CWJAP|CIPSTA|CIPAP|CWDHCP|CIPSTAMAC)_(CUR|DEF)(.*)$/i.exec(line);
    if (!m) return this.plain(line);
    const name = m[1]!.toUpperCase();
    const suffix = m[2]!.toUpperCase();
    const rename = (reply: Reply): Reply =>
      reply.lines ? { ...reply, lines: reply.lines.map((l) => l.replace(new RegExp(`^\\+${name}:`), `+${name}_${suffix}:`)) } : reply;
    const reply = this.plain(`AT+${name}${m[3]}`);
    return reply instanceof Promise ? reply.then(rename) : rename(reply);
  }

  /** AT+CWJAP? in 1.x: `+CWJAP:"ssid","bssid",channel,rssi` (four fields; 2.x added five). */
  private plain(line: string): Reply | Promise<Reply> {
    const reply = super.command(line);
    if (!/^AT\+CWJAP\?$/i.test(line)) return reply;
    const cut = (r: Reply): Reply => (r.lines ? { ...r, lines: r.lines.map((l) => l.replace(/^(\+CWJAP:"(?:[^"\\]|\\.)*","[^"]*",\d+,-?\d+),.*$/, '$1')) } : r);
    return reply instanceof Promise ? reply.then(cut) : cut(reply);
  }

  private get version(): string {
    return this.o.firmware ?? DEFAULT_VERSION;
  }
}

const DEFAULT_VERSION = '1.2.0.0';

/** espat_15's boot text, as an ESP8266 prints it after a reset. */
const BOOT_ROM = [
  ' ets Jan  8 2013,rst cause:2, boot mode:(3,7)',
  '',
  'load 0x40100000, len 816, room 16 ',
  'tail 0',
  'chksum 0x8d',
  'load 0x3ffe8000, len 788, room 8 ',
  'tail 12',
  'chksum 0xcf',
  'ho 0 tail 12 room 4',
  'load 0x3ffe8314, len 288, room 12 ',
  'tail 4',
  'chksum 0xcf',
  'csum 0xcf',
  '',
  '2nd boot version : 1.2',
  '  SPI Speed      : 40MHz',
  '  SPI Mode       : QIO',
  '  SPI Flash Size : 32Mbit',
  'jump to run user1',
];
/** espat_15: what the SDK's first output at another rate looks like at 115200. */
const BOOT_GARBAGE = '\u00c4\u00e3';

export const dialect: Dialect = {
  id: 'esp8266-at1',
  kind: 'wifi',
  profile: 'esp-at',
  description: 'Espressif ESP8266 NonOS AT 1.x, the stock ESP-01 firmware (_CUR/_DEF commands, +CWJAP:<n> then FAIL, busy s..., +IPD only, 2048-byte sends)',
  // The NonOS AT 1.x forms drivers use (ESP8266 AT Instruction Set v1.5/v1.6).
  commands: ['AT+CWMODE_CUR=1', 'AT+CWJAP_CUR="atbridge-lab","correct horse"', 'AT+CWMODE_DEF?', 'AT+CWJAP_CUR?', 'AT+CIPSTA_CUR?', 'AT+UART_CUR?'],
  create: (module, options) => new EspAt1Handler(module, options),
};

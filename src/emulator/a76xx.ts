import type { Dialect } from './dialect.js';
import { OK } from './3gpp-base.js';
import { Sim7600Handler } from './sim7600.js';
import type { Reply } from './virtual-module.js';

/**
 * SIMCom A76xx (A7670E/G/SA, A7608, SIM7670G) as its manual shows it (MAN76: A76XX Series AT
 * Command Manual V1.09, §15 TCP/IP). Its TCP/IP command set is the SIM7600's (NETOPEN, CIPOPEN,
 * CIPSEND, CIPRXGET, CIPMODE), so the dialect is the SIM7600's with what differs:
 * - AT+CIPACK=<link> reports the socket's byte counters (MAN76 §15.2.8); a closed link is ERROR.
 * - AT+CIPCLOSE answers OK, then `+CIPCLOSE: <link>,0` (no CLOSED line, MAN76 §15.2.5).
 * - AT+CDNSCFG sets the DNS servers (MAN76 §15.2.16).
 * - PDP is set up with AT+CGDCONT / AT+CGACT before AT+NETOPEN (TinyGSM's A7672X does so).
 */
export class A76xxHandler extends Sim7600Handler {
  // TinyGSM's A7672X sends AT+NETOPEN?, then AT+CIPOPEN right after NETOPEN's OK (not after +NETOPEN: 0).
  protected override opensAfterNetOpen = true;
  private sentBytes = 0;
  private receivedBytes = 0;

  protected override resetDialect(): void {
    super.resetDialect();
    this.sentBytes = 0;
    this.receivedBytes = 0;
  }

  protected override dialectCommand(line: string, up: string): Reply | Promise<Reply> | undefined {
    let m: RegExpExecArray | null;
    if ((m = /^AT\+CIPACK=(\d)$/.exec(up))) {
      if (!this.m.socket || Number(m[1]) !== this.link) return { final: 'ERROR' };
      return { lines: [`+CIPACK: ${this.sentBytes},${this.sentBytes},${this.receivedBytes}`], final: 'OK' };
    }
    // MAN76 §15.2.17 AT+CTCPKA=<keepalive>,<keepidle>,<keepcount>[,<keepinterval>]: TCP keep-alive settings.
    if (/^AT\+CTCPKA=[01](?:,\d+){2,3}$/.test(up)) return OK;
    if (/^AT\+CDNSCFG="[^"]*"(?:,"[^"]*")?$/.test(up)) return OK;
    if (/^AT\+(IFC=\d,\d|ICF=\d(?:,\d)?)$/.test(up)) return OK;
    if ((m = /^AT\+CIPSEND=(\d+),(\d+)$/.exec(up)) && this.m.socket && Number(m[1]) === this.link) this.sentBytes += Number(m[2]);
    return super.dialectCommand(line, up);
  }

  override received(data: Buffer): void {
    this.receivedBytes += data.length;
    super.received(data);
  }

  protected override closeLines(link: number): string[] {
    return [`+CIPCLOSE: ${link},0`];
  }
}

export const dialect: Dialect = {
  id: 'a76xx',
  kind: 'cellular',
  description: 'SIMCom A76xx: A7670E/G/SA, A7608, SIM7670G (SIM7600 TCP/IP commands, CIPACK, PDP via CGACT)',
  commands: ['AT+CICCID', 'AT+CPSI?', 'AT+NETOPEN?', 'AT+CIPRXGET=1', 'AT+CTCPKA=1,2,5,1', 'AT+CDNSCFG="8.8.8.8","8.8.4.4"'],
  create: (module, options) => new A76xxHandler(module, options),
};

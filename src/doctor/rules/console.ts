import type { ClassifiedEvent } from '../classify-events.js';
import type { Rule } from '../engine.js';

/**
 * A Linux login console on the modem's UART (getty on /dev/serial0, the Raspberry Pi's default
 * "serial console"): what the host reads back is getty's `<hostname> login:` prompt and login(1)'s
 * `Password:` / `Login incorrect`, because getty owns the port and takes the host's `AT` as a user
 * name. No modem prints these. `port-busy`, an error: another program holds the port.
 */
const GETTY_PROMPT = /\b[a-z][a-z0-9-]{0,62} login: ?(?:Password:|$|['"\]\\,])/i;
const LOGIN_SAYS = /\bLogin incorrect\b|(?:^|['"\s])Password: ?(?:$|['"\\,])/;

export function consoleRule(): Rule {
  const prompts: ClassifiedEvent[] = [];
  let prompt = '';
  const says: ClassifiedEvent[] = [];
  return {
    name: 'login-console',
    onEvent(e) {
      if (e.dir !== 'rx') return;
      const m = GETTY_PROMPT.exec(e.text);
      if (m) {
        if (prompts.length === 0) prompt = m[0].replace(/['"\],\\]+$/, '').trim();
        prompts.push(e);
      }
      if (LOGIN_SAYS.test(e.text)) says.push(e);
    },
    finish(c) {
      if (prompts.length === 0 || says.length === 0) return;
      c.add('port-busy', `a Linux login console answers on this serial port (getty's prompt "${prompt}"); it owns the port and reads AT as a user name`,
        [prompts[0]!, ...says.filter((e) => e !== prompts[0]).slice(0, 2)],
        { severity: 'error', fix: 'turn off the login shell on the serial port (Raspberry Pi: raspi-config → Interface Options → Serial Port: login shell no, hardware port yes; or systemctl disable --now serial-getty@ttyS0) and reboot' });
    },
  };
}

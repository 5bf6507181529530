import { describe, expect, it } from 'vitest';
import { openModemSession } from '../../src/modem/session.js';
import type { Tap } from '../../src/transport/tap.js';

/** Commands the host wrote, passwords masked. */
function recorder(): { tap: Tap; commands: string[] } {
  const commands: string[] = [];
  return {
    commands,
    tap: {
      rx: () => undefined,
      tx: (data) => {
        const text = data.toString('latin1').trim();
        if (/^AT/i.test(text)) commands.push(text.replace(/,"[^"]*"$/, ',"***"'));
      },
    },
  };
}

describe('ESP-AT with credentials stored in flash (emu autojoin=SSID)', () => {
  const options = { profile: 'esp-at', baud: 115200, wifiSsid: 'atbridge-lab', wifiPassword: 'correct horse' } as const;

  it('a module already on the wanted AP costs one query, no join', async () => {
    const { tap, commands } = recorder();
    const session = await openModemSession({ ...options, device: 'emu:esp-at?pacing=0&autojoin=atbridge-lab' }, { taps: [tap] });
    try {
      expect(commands).toContain('AT+CWJAP?');
      expect(commands.some((c) => /^AT\+CWJAP=/.test(c))).toBe(false);
      expect(commands.some((c) => /^AT\+CWMODE=/.test(c))).toBe(false);
    } finally {
      await session.close();
    }
  });

  it('a module that is off Wi-Fi (or on another AP) joins', async () => {
    const { tap, commands } = recorder();
    const session = await openModemSession({ ...options, device: 'emu:esp-at?pacing=0&ap=other:pw&ap=atbridge-lab:correct horse&autojoin=other' }, { taps: [tap] });
    try {
      expect(commands).toContain('AT+CWJAP="atbridge-lab","***"');
    } finally {
      await session.close();
    }
  });
});

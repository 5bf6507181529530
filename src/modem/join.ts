import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import { run, runScript, type StepContext } from './context.js';

export interface WifiFacts {
  ssid: string;
  rssi?: number;
  ip?: string;
}

export interface JoinOptions {
  transparent: boolean;
  recvMode: 'push' | 'buffered';
}

/** Station mode → join the AP (unless already on it) → single link, socket mode, receive mode. */
export async function joinWifi(ctx: StepContext, options: JoinOptions): Promise<WifiFacts> {
  await runScript(ctx, 'join');
  const wanted = ctx.vars.ssid as string | undefined;
  const current = await run(ctx, 'wifiStatus', { optional: true });
  const currentSsid = current.groups.ssid;
  if (wanted === undefined && currentSsid === undefined) {
    throw new AtbridgeError('wifi-not-configured', 'the module is not on a Wi-Fi network and no --wifi-ssid was given', {
      exitCode: ExitCode.usage,
      fix: 'pass --wifi-ssid NAME (and --wifi-password, or ATBRIDGE_WIFI_PASSWORD)',
    });
  }
  if (wanted !== undefined && currentSsid !== wanted) {
    ctx.progress(`joining Wi-Fi "${wanted}"`);
    try {
      await run(ctx, 'wifiJoin', { optional: false });
    } catch (err) {
      if (err instanceof AtError) throw joinError(ctx, wanted, err);
      throw err;
    }
  } else {
    ctx.note(`join: already on "${currentSsid}"`);
  }
  const status = await run(ctx, 'signal', { optional: true });
  const ssid = status.groups.ssid ?? wanted ?? '';
  const rssi = status.groups.rssi !== undefined ? Number(status.groups.rssi) : undefined;
  await runScript(ctx, options.transparent ? 'netOpenTransparent' : 'netOpenCommand');
  if (!options.transparent) {
    const recv = options.recvMode === 'buffered' ? 'recvBuffered' : 'recvPush';
    if (ctx.profile.hasCommand(recv)) await run(ctx, recv, { optional: options.recvMode === 'push' });
  }
  const network = await runScript(ctx, 'network').catch(() => ({}) as Record<string, string>);
  return { ssid, ...(rssi !== undefined ? { rssi } : {}), ...(network.ip ? { ip: network.ip } : {}) };
}

function joinError(ctx: StepContext, ssid: string, err: AtError): AtbridgeError {
  // The profile's join-error URC pattern says where the reason code is (+CWJAP:<n> on ESP-AT).
  const code = err.lines
    .map((l) => ctx.profile.matchUrc(l.trim()))
    .find((m) => m?.spec.event === 'wifi-join-error')?.groups.code;
  const meaning = ctx.profile.explain('cwjap', code);
  if (code === '2') {
    return new AtbridgeError('wifi-wrong-password', `Wi-Fi "${ssid}" refused the password (+CWJAP:2)`, {
      exitCode: ExitCode.wifiAuth,
      fix: 'check --wifi-password (WPA2 passwords are case-sensitive, 8–63 characters)',
    });
  }
  if (code === '3') {
    return new AtbridgeError('wifi-ap-not-found', `no Wi-Fi network named "${ssid}" in range (+CWJAP:3)`, {
      exitCode: ExitCode.wifiNotFound,
      fix: 'check the SSID spelling and that the AP is 2.4 GHz and in range',
    });
  }
  if (code === '1') {
    return new AtbridgeError('wifi-join-timeout', `joining "${ssid}" timed out (+CWJAP:1)`, {
      exitCode: ExitCode.wifiAuth,
      fix: 'move closer to the AP or check that it accepts new clients',
    });
  }
  return new AtbridgeError('wifi-join-failed', `joining "${ssid}" failed: ${meaning ?? err.message}`, {
    exitCode: ExitCode.wifiAuth,
    fix: 'check the SSID and password; `atbridge doctor` shows more',
  });
}

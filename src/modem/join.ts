import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode } from '../errors.js';
import type { JoinFailureT } from '../profile/schema.js';
import { run, runScript, type StepContext } from './context.js';

/** What the driver knows of an ESP-AT module's Wi-Fi: the AP joined, signal and address. */
export interface WifiFacts {
  ssid: string;
  rssi?: number;
  ip?: string;
}

export interface JoinOptions {
  transparent: boolean;
  recvMode: 'push' | 'buffered';
}

/**
 * Already on the wanted AP (the usual case after a restart) costs one query; otherwise station
 * mode, flash writes off, and the join. Then single link and the socket mode.
 */
export async function joinWifi(ctx: StepContext, options: JoinOptions): Promise<WifiFacts> {
  const wanted = ctx.vars.ssid as string | undefined;
  const current = await run(ctx, 'wifiStatus', { optional: true });
  const currentSsid = current.groups.ssid;
  let rssi = current.groups.rssi !== undefined ? Number(current.groups.rssi) : undefined;
  if (wanted === undefined && currentSsid === undefined) {
    throw new AtbridgeError('wifi-not-configured', 'the module is not on a Wi-Fi network and no --wifi-ssid was given', {
      exitCode: ExitCode.usage,
      fix: 'pass --wifi-ssid NAME (and --wifi-password, or ATBRIDGE_WIFI_PASSWORD)',
    });
  }
  if (wanted !== undefined && currentSsid !== wanted) {
    await runScript(ctx, 'join');
    // Joins are written to flash on AT 2.x unless told otherwise; a gateway rejoining for months would wear it.
    if (ctx.profile.hasCommand('noStore')) await run(ctx, 'noStore', { optional: true });
    ctx.progress(`joining Wi-Fi "${wanted}"`);
    try {
      await run(ctx, 'wifiJoin', { optional: false });
    } catch (err) {
      if (err instanceof AtError) throw joinError(ctx, wanted, err);
      throw err;
    }
    rssi = undefined;
  } else {
    ctx.note(`join: already on "${currentSsid}"`);
  }
  await runScript(ctx, options.transparent ? 'netOpenTransparent' : 'netOpenCommand');
  // Push is the power-on default; a module left in passive mode is still read (on its notices).
  if (!options.transparent && options.recvMode === 'buffered' && ctx.profile.hasCommand('recvBuffered')) await run(ctx, 'recvBuffered');
  return { ssid: currentSsid ?? wanted ?? '', ...(rssi !== undefined ? { rssi } : {}) };
}

function joinError(ctx: StepContext, ssid: string, err: AtError): AtbridgeError {
  // The profile's join-error URC says where the reason code is and which table explains it; its
  // joinFailures say what kind of failure the code is and what to do (the data, not this code).
  const hit = err.lines
    .map((l) => ({ line: l.trim(), urc: ctx.profile.matchUrc(l.trim()) }))
    .find((h) => h.urc?.spec.event === 'wifi-join-error');
  const code = hit?.urc?.groups.code;
  const meaning = ctx.profile.explain(hit?.urc?.spec.table, code);
  const failure = ctx.profile.joinFailure(code);
  const said = hit ? ` (${hit.line})` : '';
  const fix = failure?.fix ?? 'check the SSID and password; `atbridge doctor` shows more';
  switch (failure?.kind) {
    case 'wrong-password':
      return new AtbridgeError('wifi-wrong-password', `Wi-Fi "${ssid}" refused the password${said}`, { exitCode: ExitCode.wifiAuth, fix });
    case 'ap-not-found':
      return new AtbridgeError('wifi-ap-not-found', `no Wi-Fi network named "${ssid}" in range${said}`, { exitCode: ExitCode.wifiNotFound, fix });
    case 'timeout':
      return new AtbridgeError('wifi-join-timeout', `joining "${ssid}" timed out${said}`, { exitCode: ExitCode.wifiAuth, fix });
    default:
      return new AtbridgeError('wifi-join-failed', `joining "${ssid}" failed: ${meaning ?? (hit ? hit.line : err.message)}`, { exitCode: ExitCode.wifiAuth, fix });
  }
}

/** The finding a join failure is, by the kind the profile's `joinFailures` give its reason code. */
export function joinFindingId(kind: JoinFailureT['kind'] | undefined): 'wifi-join-timeout' | 'wifi-wrong-password' | 'wifi-ap-not-found' | 'wifi-join-failed' {
  return kind === 'timeout' ? 'wifi-join-timeout' : kind === 'wrong-password' ? 'wifi-wrong-password' : kind === 'ap-not-found' ? 'wifi-ap-not-found' : 'wifi-join-failed';
}

import { AtChannel } from '../../at/channel.js';
import type { ClassifiedLine } from '../../at/classify.js';
import { AtError } from '../../at/errors.js';
import { AtbridgeError, errorMessage } from '../../errors.js';
import { escapeDataMode } from '../../modem/escape.js';
import { autoCandidates, identifyModule } from '../../modem/identify.js';
import { probeAtTimes, sleep } from '../../modem/probe.js';
import { runCommand } from '../../modem/run-command.js';
import { COMMON_RATES } from '../../modem/sync.js';
import { joinFindingId } from '../../modem/join.js';
import { commandName, getProfile, type ModuleProfile, type Vars } from '../../profile/index.js';
import type { TraceEvent } from '../../trace/events.js';
import { redactCommandLine } from '../../trace/redact.js';
import { openDevice, type OpenedDevice } from '../../transport/open-device.js';
import { TappedLink } from '../../transport/tap.js';
import { analyzeEvents } from '../analyze.js';
import { finding, isFindingId, mergeFindings, type Finding } from '../findings.js';
import { mqttCheck, type MqttCheckOptions } from './mqtt-check.js';
import { checkPort } from './port-checks.js';
import { CheckReporter, type CheckResult } from './report.js';

export interface LiveDoctorOptions {
  device: string;
  /** A rate, or 'auto' (start at the profile default and scan). */
  baud: number | 'auto';
  profile: string;
  /** Per AT probe; short in tests. */
  probeTimeoutMs?: number;
  probes?: number;
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  /** `host:port` for a test TCP connect through the module. */
  tcp?: { host: string; port: number };
  /** An MQTT CONNECT through the module at the end (`--broker host:port`). */
  mqtt?: Omit<MqttCheckOptions, 'apn' | 'pin' | 'wifiSsid' | 'wifiPassword'>;
  registrationTimeoutMs?: number;
  onCheck?: (check: CheckResult) => void;
  /** Test hook: the opened device (inject emulator faults mid-run). */
  onOpened?: (device: OpenedDevice) => void;
  /** Test hook: called after each check line with its name. */
  afterCheck?: (name: string) => Promise<void> | void;
}

export interface LiveDoctorResult {
  checks: CheckResult[];
  findings: Finding[];
  /** Every byte and note of the run, for --trace and for the rules. */
  events: TraceEvent[];
}

/**
 * `atbridge doctor --device …`: ordered checks from the port to the network. Each check prints a
 * ✓/✗ line; every byte is recorded, and the same rules that read log files run over the record,
 * so a live run and `doctor --log` of its trace agree.
 */
export async function runLiveDoctor(options: LiveDoctorOptions): Promise<LiveDoctorResult> {
  const reporter = new CheckReporter(options.onCheck);
  const events: TraceEvent[] = [];
  const started = performance.now();
  const now = () => performance.now() - started;
  const note = (text: string, fields?: Record<string, unknown>) => events.push({ t: now(), dir: 'note', data: Buffer.from(text), ...(fields ? { fields } : {}) });

  const isSerial = !options.device.startsWith('emu:') && !/^tcp:/i.test(options.device);
  if (isSerial && !(await checkPort(options.device, reporter))) return finish();

  const fixed = options.profile !== 'auto' ? getProfile(options.profile) : undefined;
  const startProfile = fixed ?? autoCandidates().find((p) => p.id === 'sim7600') ?? autoCandidates()[0]!;
  const firstBaud = options.baud === 'auto' ? startProfile.data.serial.defaultBaud : options.baud;
  let device: OpenedDevice;
  try {
    device = await openDevice(options.device, { baud: firstBaud, exclusive: !isSerial });
  } catch (err) {
    const f = err instanceof AtbridgeError && isFindingId(err.code) ? finding(err.code, err.message, [reporter.evidence(errorMessage(err))], err.fix ? { fix: err.fix } : {}) : undefined;
    reporter.fail('open', `cannot open ${options.device}: ${errorMessage(err)}`, f);
    return finish();
  }
  options.onOpened?.(device);
  const link = new TappedLink(device.link);
  link.addTap({
    tx: (data) => events.push({ t: now(), dir: 'tx', data: Buffer.from(data) }),
    rx: (data) => events.push({ t: now(), dir: 'rx', data: Buffer.from(data) }),
    note: (text, fields) => note(text, fields),
  });
  const channel = new AtChannel(link, startProfile, { busyRetryMs: 200, busyBudgetMs: 15_000, deadAfterTimeouts: 1000 });
  let busyLines = 0;
  channel.on('line', (line: ClassifiedLine) => {
    if (line.kind === 'busy') busyLines++;
  });
  let ready: { profile: ModuleProfile; baud: number } | undefined;
  let rateScanned = false;
  try {
    await moduleChecks();
    if (options.mqtt && ready) {
      // The driver takes over the same link for a real CONNECT: hand the line over cleanly.
      channel.detach();
      await mqttCheck(link, ready.profile, ready.baud, {
        ...options.mqtt,
        ...(options.apn !== undefined ? { apn: options.apn } : {}),
        ...(options.pin !== undefined ? { pin: options.pin } : {}),
        ...(options.wifiSsid !== undefined ? { wifiSsid: options.wifiSsid } : {}),
        ...(options.wifiPassword !== undefined ? { wifiPassword: options.wifiPassword } : {}),
      }, reporter);
    } else if (options.mqtt) {
      reporter.skip('mqtt', 'the module is not ready for a connection');
    }
  } catch (err) {
    reporter.fail('doctor', `stopped: ${errorMessage(err)}`);
  } finally {
    channel.detach();
    await device.close().catch(() => undefined);
  }
  return finish();

  async function after(name: string): Promise<void> {
    await options.afterCheck?.(name);
  }

  async function moduleChecks(): Promise<void> {
    const SLOW_ANSWER_MS = 4000;
    const probeMs = options.probeTimeoutMs ?? 500;
    const probes = options.probes ?? 2;
    // --- sync: the configured rate, a busy module, transparent mode, then the other rates.
    let heard = 0;
    const count = (chunk: Buffer) => (heard += chunk.length);
    link.on('data', count);
    // An echo, a busy line or a result code means command mode: a module in transparent mode
    // sends AT to the socket and says nothing, so only silence (or stray data) earns the escape.
    const commandModeLines: string[] = [];
    const onProbeLine = (line: ClassifiedLine) => {
      // Before identification the profile may be the other family's: know ESP-AT's busy lines by their words.
      if (line.kind !== 'busy' && /^busy [ps]\.\.\./.test(line.text.trim())) busyLines++;
      // A late echo has no command in flight to match, so it reads as a command line.
      if (line.kind === 'echo' || line.kind === 'command' || line.kind === 'busy' || line.kind === 'final') commandModeLines.push(line.text.trim());
    };
    channel.on('line', onProbeLine);
    let synced = await probeAtTimes(channel, probes, probeMs);
    if (!synced && busyLines > 0) {
      reporter.warn('busy', `the module answers "busy" to AT; waiting for it`);
      synced = await waitWhileBusy(probeMs);
      if (!synced) {
        channel.off('line', onProbeLine);
        link.off('data', count);
        reporter.fail('busy', 'the module stayed busy for 15 s', finding('module-busy', 'the module answered "busy" to every AT for 15 s: it is stuck in a long operation', [reporter.evidence(`probe: ${commandModeLines.slice(0, 3).join(' | ')}`)], {
          severity: 'error',
          fix: 'power-cycle the module; if it happens again, find the command that started the long operation (a join or connect to an unreachable peer)',
        }));
        return;
      }
    }
    if (!synced && commandModeLines.length === 0) {
      // Listen one more probe's time, and the escape's guard (it needs that silence first): an echo
      // or a final that comes after the probe gave up means command mode, late (a slow line, or a
      // host whose timer ran before the read); a module in transparent mode echoes nothing.
      await sleep(Math.max(startProfile.data.escape.guardBeforeMs, probeMs));
    }
    if (!synced && commandModeLines.length > 0) {
      // It hears us but its OK is late or lost: give it time rather than "+++".
      synced = await probeAtTimes(channel, 2, SLOW_ANSWER_MS);
      const seen = commandModeLines.slice(0, 3).join(' | ');
      reporter.warn('sync', synced ? `AT was echoed but its OK came late or not at all at first (${seen})` : `the module echoes AT but never answers OK (${seen})`,
        finding('no-response', synced
          ? `the module heard AT (${seen}) but its final result came late or was lost before an OK arrived`
          : `the module heard AT (${seen}) but no final result came in ${SLOW_ANSWER_MS / 1000} s`, [reporter.evidence(`probe: ${seen}`)], {
          severity: synced ? 'warning' : 'error',
          fix: 'a module that echoes but drops or delays OK is busy with a long operation, short of supply current, or losing bytes on the line: check the supply and wiring',
        }));
    }
    channel.off('line', onProbeLine);
    if (!synced && commandModeLines.length === 0) {
      const heardAtFirst = heard;
      channel.enterDataMode();
      try {
        await escapeDataMode(channel, startProfile, { probeTimeoutMs: probeMs, note: (t) => note(t) });
        synced = true;
        const f = finding('stuck-transparent', `the module was stuck in transparent mode at ${firstBaud} baud: it answered AT only after "${startProfile.data.escape.sequence}" (the doctor brought it back to command mode)`, [reporter.evidence('escape: module answered AT after the escape')]);
        reporter.fail('transparent', 'was stuck in transparent mode; escaped', f);
      } catch (err) {
        channel.leaveDataMode();
        if (!(err instanceof AtbridgeError && err.code === 'escape-failed')) throw err;
        note(`escape: no answer after the escape (${heardAtFirst} bytes heard before)`);
      }
    }
    let baud = firstBaud;
    rateScanned = !synced;
    const tried: { baud: number; heard: number }[] = [];
    if (!synced && link.capabilities.baud) {
      for (const rate of [...new Set([...startProfile.data.serial.probeRates, ...COMMON_RATES])]) {
        if (rate === firstBaud) continue;
        await link.setBaud(rate);
        await link.flush();
        heard = 0;
        const ok = await probeAtTimes(channel, probes, probeMs);
        tried.push({ baud: rate, heard });
        if (ok) {
          synced = true;
          baud = rate;
          break;
        }
      }
    }
    link.off('data', count);
    if (!synced) {
      const noisy = tried.filter((t) => t.heard > 0);
      if (noisy.length > 0) {
        reporter.fail('baud', `no rate gave a clean OK; unreadable bytes at ${noisy.map((t) => t.baud).join(', ')}`,
          finding('baud-mismatch', `bytes come back at ${noisy.map((t) => `${t.baud} (${t.heard} B)`).join(', ')} baud but never a readable OK`, [reporter.evidence(`scan: ${JSON.stringify(tried)}`)], {
            fix: 'check the framing (8N1), that TX/RX are not swapped and the ground is connected; the module may use a rate this adapter cannot do',
          }));
      } else {
        reporter.fail('baud', `no answer at any rate (${[firstBaud, ...tried.map((t) => t.baud)].join(', ')})`,
          finding('no-response', `the module answered nothing at ${1 + tried.length} baud rates, and not after "+++" either`, [reporter.evidence(`scan: nothing heard at ${[firstBaud, ...tried.map((t) => t.baud)].join(', ')}`)]));
      }
      return;
    }
    if (baud !== firstBaud && options.baud !== 'auto') {
      reporter.fail('baud', `the module answers at ${baud} baud, not at ${firstBaud}`,
        finding('baud-mismatch', `configured ${firstBaud} baud, but the module answers at ${baud}`, [reporter.evidence(`scan: OK at ${baud}`)], { fix: `use --baud ${baud}, or set the module back with ${rateCommand(startProfile, firstBaud)}` }));
    } else if (baud !== firstBaud) {
      // Found by the scan: a program that assumes the usual rate will see garbage or silence.
      reporter.warn('baud', `AT → OK at ${baud} baud (8N1), not at the usual ${firstBaud}`,
        finding('baud-mismatch', `the module answers at ${baud} baud, not at the usual ${firstBaud}`, [reporter.evidence(`scan: OK at ${baud}`)], {
          severity: 'warning',
          fix: `set your program to ${baud} baud (atbridge: --baud ${baud}), or set the module back with ${rateCommand(startProfile, firstBaud)}`,
        }));
    } else {
      reporter.pass('baud', `AT → OK at ${baud} baud (8N1)`);
    }
    await after('baud');

    // --- echo and line ending.
    const echo = await channel.send('ATE0', { timeoutMs: 2000 }).catch(() => undefined);
    const echoed: string[] = [];
    const onEcho = (line: ClassifiedLine) => line.kind === 'echo' && echoed.push(line.text);
    channel.on('line', onEcho);
    const plain = await channel.send('AT', { timeoutMs: 2000 }).catch(() => undefined);
    channel.off('line', onEcho);
    if (!echo?.ok || !plain?.ok) {
      reporter.warn('echo', 'ATE0 / AT did not both answer OK', finding('echo-mismatch', 'the module did not accept ATE0 or answered AT oddly after it', [reporter.evidence(`ATE0 → ${echo?.final ?? 'nothing'}; AT → ${plain?.final ?? 'nothing'}`)]));
    } else if (echoed.length > 0) {
      reporter.warn('echo', 'echo stays on after ATE0', finding('echo-mismatch', 'the module still echoes commands after ATE0 answered OK', [reporter.evidence(`echo: ${echoed.join(' | ')}`)]));
    } else {
      reporter.pass('echo', `echo off, line ending ${JSON.stringify(startProfile.lineEnding)} accepted`);
    }
    await after('echo');

    // --- identity and firmware.
    let profile: ModuleProfile;
    try {
      const identity = await identifyModule(channel, fixed ? [fixed] : autoCandidates());
      profile = identity.profile;
      channel.setProfile(profile);
      reporter.pass('identity', `${identity.model ?? profile.data.name}${identity.firmware ? `, firmware ${identity.firmware}` : ''} (profile ${profile.id})`);
    } catch (err) {
      const said = errorMessage(err);
      // Control bytes in what it said: the line mangles answers; otherwise a module atbridge does not know.
      const garbled = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]/.test(said);
      reporter.fail('identity', said, garbled
        ? finding('line-corruption', 'the identity answers came garbled: bytes are lost or changed on the line', [reporter.evidence(said)], { severity: 'error' })
        : finding('wrong-port', 'this port answers AT but not as a module atbridge knows (SIM7600 family or ESP-AT)', [reporter.evidence(said)], {
            fix: 'if it is one of them, pass --profile sim7600 or --profile esp-at; otherwise `atbridge ports` names the modem\'s AT interface',
          }));
      return;
    }
    await after('identity');
    const vars: Vars = {
      link: profile.data.socket.link,
      ...(options.apn !== undefined ? { apn: options.apn } : {}),
      ...(options.pin !== undefined ? { pin: options.pin } : {}),
      ...(options.wifiSsid !== undefined ? { ssid: options.wifiSsid } : {}),
      ...(options.wifiPassword !== undefined ? { password: options.wifiPassword } : {}),
    };
    await runCommand(channel, profile, 'echoOff', vars, { optional: true }).catch(() => undefined);
    const ok = profile.family === 'cellular' ? await cellularChecks(profile, vars) : await wifiChecks(profile, vars);
    if (!ok) return;
    await tcpCheck(profile, vars);
    ready = { profile, baud: link.baud ?? firstBaud };
  }

  async function waitWhileBusy(probeMs: number): Promise<boolean> {
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      try {
        const res = await channel.send('AT', { timeoutMs: Math.max(probeMs, 1000), resyncAfterTimeout: false });
        if (res.ok) return true;
      } catch (err) {
        if (!(err instanceof AtError)) throw err;
      }
      await sleep(200);
    }
    return false;
  }

  async function cellularChecks(profile: ModuleProfile, vars: Vars): Promise<boolean> {
    await runCommand(channel, profile, 'errorsNumeric', vars, { optional: true }).catch(() => undefined);
    // SIM: READY, PIN (unlock when --pin), or a CME error; "SIM busy" right after boot is waited out.
    const simDeadline = performance.now() + 8000;
    for (let attempt = 1; ; attempt++) {
      const res = await channel.send('AT+CPIN?', { timeoutMs: 5000 }).catch(() => undefined);
      const state = res?.lines.map((l) => /^\+CPIN: ?(.+)$/.exec(l.trim())?.[1]).find(Boolean)?.trim();
      // A state no module sends, or no answer at all, is a mangled or lost line: ask again before judging.
      if ((state === undefined || !CPIN_STATES.test(state)) && !/^\+CME ERROR/.test(res?.final ?? '') && attempt < 3) {
        await sleep(200);
        continue;
      }
      if (state === 'READY') {
        reporter.pass('sim', 'SIM ready');
        break;
      }
      if (state === 'SIM PIN' && options.pin !== undefined) {
        const unlock = await runCommand(channel, profile, 'simUnlock', vars, { optional: true });
        if (!unlock.ok) return reporter.fail('sim', 'the SIM refused the PIN', finding('sim-pin-required', 'the SIM refused the PIN given with --pin', [reporter.evidence('AT+CPIN="****" → error')], { fix: 'check the PIN; three wrong tries lock the SIM (PUK)' }));
        await sleep(300);
        continue;
      }
      if (state) return reporter.fail('sim', `SIM: ${state}`, finding('sim-pin-required', `the SIM is locked (${state})`, [reporter.evidence(`+CPIN: ${state}`)]));
      const code = res?.error instanceof AtError ? res.error.moduleCode ?? res.final : res?.final ?? 'no answer';
      if ((code === '14' || /busy/i.test(String(code))) && performance.now() < simDeadline) {
        await sleep(500);
        continue;
      }
      const id = code === '10' ? 'sim-missing' : code === '13' || code === '15' ? 'sim-failure' : 'sim-not-ready';
      const meaning = profile.explain('cme', String(code));
      return reporter.fail('sim', `AT+CPIN? → ${res?.final ?? 'no answer'}${meaning ? ` (${meaning})` : ''}`, finding(id, `the SIM check failed: ${res?.final ?? 'no answer'}${meaning ? ` (${meaning})` : ''}`, [reporter.evidence(`AT+CPIN? → ${res?.final ?? 'timeout'}`)]));
    }
    await after('sim');
    const csq = await runCommand(channel, profile, 'signal', vars, { optional: true });
    const rssi = csq.groups.rssi !== undefined ? Number(csq.groups.rssi) : undefined;
    if (rssi === undefined || rssi === 99) reporter.warn('signal', `no signal reading (${csq.response?.lines.join(' ') || 'no +CSQ'})`, finding('no-signal', `no signal: ${csq.response?.lines.join(' ') || 'no +CSQ answer'}`, [reporter.evidence(`AT+CSQ → ${csq.response?.lines.join(' ') ?? 'error'}`)], { severity: 'warning' }));
    else reporter.pass('signal', `CSQ ${rssi} (${-113 + 2 * rssi} dBm)`);
    await after('signal');
    // Registration: poll until registered, denied or the time is up.
    const deadline = performance.now() + (options.registrationTimeoutMs ?? 60_000);
    let summary = '';
    for (;;) {
      const states: Record<string, string> = {};
      for (const name of profile.script('registration')) {
        const r = await runCommand(channel, profile, name, vars, { optional: true });
        if (r.ok && r.groups.stat !== undefined) states[name] = r.groups.stat;
      }
      summary = Object.entries(states).map(([n, s]) => `${REGISTRATION_NAMES[n] ?? n} ${s} (${profile.explain('creg', s) ?? '?'})`).join(', ');
      if (Object.values(states).some((s) => s === '1' || s === '5')) break;
      if (Object.values(states).includes('3')) return reporter.fail('registration', `denied: ${summary}`, finding('registration-denied', `the network denied registration (${summary})`, [reporter.evidence(summary)]));
      if (performance.now() > deadline) return reporter.fail('registration', `not registered: ${summary || 'no answer'}`, finding('not-registered', `not registered after ${Math.round((options.registrationTimeoutMs ?? 60_000) / 1000)} s (${summary || 'no answer'})`, [reporter.evidence(summary)]));
      await sleep(1000);
    }
    reporter.pass('registration', summary);
    await after('registration');
    if (options.apn !== undefined) for (const name of profile.script('attach')) await runCommand(channel, profile, name, vars, { optional: true });
    // The profile's own network-open script (SIM800: CSTT, CIICR, CIFSR; Quectel: QIACT), as the modem runs it.
    const steps = profile.script('netOpenCommand').filter((s) => profile.hasCommand(s));
    const open = steps.includes('netOpen') ? 'netOpen' : steps.at(-1);
    try {
      for (const step of steps) await runCommand(channel, profile, step, vars, { optional: step !== open });
      reporter.pass('network', `${profile.command(open ?? 'netOpen').send.replace(/^AT\+?/i, '').replace(/[=?].*$/, '')}: data network open`);
    } catch (err) {
      const name = commandName(profile.command(open ?? 'netOpen').send);
      return reporter.fail('network', `${name.replace(/^AT\+?/i, '')} failed: ${errorMessage(err)}`, finding('netopen-failed', `${name} failed: ${errorMessage(err)}`, [reporter.evidence(errorMessage(err))]));
    }
    await after('network');
    return true;
  }

  async function wifiChecks(profile: ModuleProfile, vars: Vars): Promise<boolean> {
    await runCommand(channel, profile, 'wifiMode', vars, { optional: true });
    const status = await runCommand(channel, profile, 'wifiStatus', vars, { optional: true });
    const current = status.groups.ssid;
    if (options.wifiSsid === undefined) {
      if (current) reporter.pass('wifi', `joined to "${current}" (RSSI ${status.groups.rssi ?? '?'} dBm)${options.wifiPassword !== undefined ? '; password not needed (already joined), so not checked' : ''}`);
      else return reporter.fail('wifi', 'not on any Wi-Fi network and no --wifi-ssid given', finding('wifi-join-failed', 'the module is not on Wi-Fi and no network was given to join', [reporter.evidence(`${profile.command('wifiStatus').send} → no AP`)], { severity: 'warning', fix: 'pass --wifi-ssid NAME and --wifi-password (or ATBRIDGE_WIFI_PASSWORD)' }));
    } else if (current !== options.wifiSsid) {
      const res = await channel.send(profile.fill(profile.command('wifiJoin').send, vars), { timeoutMs: 20_000 }).catch((err: unknown) => err);
      if (!(res instanceof Error) && (res as { ok: boolean }).ok) {
        reporter.pass('wifi', `joined "${options.wifiSsid}"`);
      } else {
        const lines = res instanceof Error ? [] : (res as { lines: string[] }).lines;
        // The profile's join-error URC carries the reason code; its table says what the code means.
        const hit = lines.map((l) => ({ line: l.trim(), urc: profile.matchUrc(l.trim()) })).find((h) => h.urc?.spec.event === 'wifi-join-error');
        const meaning = profile.explain(hit?.urc?.spec.table, hit?.urc?.groups.code);
        // What the code is and what to do: the profile's joinFailures.
        const failure = profile.joinFailure(hit?.urc?.groups.code);
        const why = hit ? `: ${hit.line}${meaning ? ` (${meaning})` : ''}` : '';
        const sent = redactCommandLine(profile.fill(profile.command('wifiJoin').send, vars));
        return reporter.fail('wifi', `joining "${options.wifiSsid}" failed${why}`, finding(joinFindingId(failure?.kind), `joining Wi-Fi "${options.wifiSsid}" failed${why}`, [reporter.evidence(`${sent} → ${lines.join(' | ') || errorMessage(res)}`)], failure ? { fix: failure.fix } : {}));
      }
    } else {
      // Already joined: nothing to try the password on, and nothing wrong.
      reporter.pass('wifi', `joined to "${current}" (RSSI ${status.groups.rssi ?? '?'} dBm); ${options.wifiPassword !== undefined ? 'password not needed (already joined), so not checked' : 'no join needed'}`);
    }
    await after('wifi');
    for (const name of profile.script('netOpenCommand')) await runCommand(channel, profile, name, vars, { optional: true });
    return true;
  }

  async function tcpCheck(profile: ModuleProfile, vars: Vars): Promise<void> {
    if (!options.tcp) {
      reporter.skip('tcp', 'no --tcp host:port given');
      return;
    }
    const { host, port } = options.tcp;
    const v = { ...vars, host, port };
    await runCommand(channel, profile, 'socketClose', v, { optional: true }).catch(() => undefined);
    try {
      await runCommand(channel, profile, 'socketOpen', v);
      reporter.pass('tcp', `TCP ${host}:${port} opened through the module`);
      await runCommand(channel, profile, 'socketClose', v, { optional: true }).catch(() => undefined);
    } catch (err) {
      const detail = err instanceof AtError ? err.meaning ?? err.message : errorMessage(err);
      reporter.fail('tcp', `TCP ${host}:${port} failed: ${detail}`, finding('socket-open-failed', `could not open TCP ${host}:${port} through the module: ${detail}`, [reporter.evidence(errorMessage(err))]));
    }
  }

  async function finish(): Promise<LiveDoctorResult> {
    // The log rules see what the checks saw: busy floods, reboots, peer closes, garbage.
    const fromBytes = events.some((e) => e.dir !== 'note') ? (await analyzeEvents(events, fixed ? { profile: fixed.id } : {})).findings : [];
    // Garbage while the scan tried wrong rates is the scan's business; at the first rate it is the line's.
    const relevant = fromBytes.filter((f) => LIVE_RULE_IDS.has(f.id) || (f.id === 'line-corruption' && !rateScanned));
    return { checks: reporter.checks, findings: mergeFindings([...reporter.findings, ...relevant]), events };
  }
}

/** The profile's registration commands as a person knows them. */
const REGISTRATION_NAMES: Record<string, string> = { regEps: 'LTE (+CEREG)', regPs: 'packet (+CGREG)', regCs: 'circuit (+CREG)' };

/** What +CPIN: can say (3GPP TS 27.007). */
const CPIN_STATES = /^(?:READY|SIM PIN2?|SIM PUK2?|PH-(?:SIM|FSIM|NET|NETSUB|SP|CORP) PIN|PH-(?:FSIM|NET|NETSUB|SP|CORP) PUK|NOT READY|NOT INSERTED)$/;

/** Ids the byte rules may add to a live run (the checks own the rest: a deliberate probe's ERROR is not a finding). */
const LIVE_RULE_IDS = new Set(['module-rebooted', 'module-busy', 'peer-closed', 'network-closed', 'wifi-disconnected']);

/** The command that sets the module's rate back, as its profile writes it (stored in flash where the profile says how). */
function rateCommand(profile: ModuleProfile, baud: number): string {
  const change = profile.data.baudChange;
  if (!change) return `the module's rate command (${baud} baud)`;
  return profile.fill(change.persist ?? change.command, { baud });
}

import { AtError } from '../at/errors.js';
import { AtbridgeError, ExitCode, isLinkClosed, type ErrorCode } from '../errors.js';
import { run, runScript, type StepContext } from './context.js';
import { sleep } from './probe.js';

/** What the driver knows of a cellular module's SIM, signal, registration and data connection. */
export interface CellularFacts {
  sim: string;
  rssi?: number;
  registration: Record<string, string>;
  operator?: string;
  ip?: string;
}

export interface AttachOptions {
  registrationTimeoutMs: number;
  pollMs: number;
  transparent: boolean;
  recvMode: 'push' | 'buffered';
  /** The banner already said +CPIN: READY. */
  simReady?: boolean;
}

/** SIM → signal → registration → PDP context → receive mode → NETOPEN. */
export async function attachCellular(ctx: StepContext, options: AttachOptions): Promise<CellularFacts> {
  const sim = options.simReady ? 'READY' : await waitForSim(ctx);
  let rssi: number | undefined;
  const registration = await waitForRegistration(ctx, options, async () => {
    // Signal matters only while the module is not registered: then it explains the wait.
    if (rssi !== undefined) return;
    const signal = await run(ctx, 'signal', { optional: true });
    rssi = signal.groups.rssi !== undefined ? Number(signal.groups.rssi) : undefined;
    if (rssi !== undefined) ctx.progress(`signal: CSQ ${rssi}${rssi === 99 ? ' (no signal yet)' : ` (${-113 + 2 * rssi} dBm)`}`);
  });
  await runScript(ctx, 'attach');
  await openNetwork(ctx, options);
  return { sim, ...(rssi !== undefined ? { rssi } : {}), registration };
}

async function waitForSim(ctx: StepContext): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let state: string;
    try {
      state = (await run(ctx, 'simStatus')).groups.cpin?.trim() ?? 'UNKNOWN';
    } catch (err) {
      if (!(err instanceof AtError) || isLinkClosed(err) || err.atCode === 'aborted') throw err;
      // Numeric (AT+CMEE=1) or verbose (AT+CMEE=2) codes alike: TS 27.007 §9.2 10 = SIM not inserted, 13 = SIM failure.
      const code = ctx.profile.codeOf('cme', err.moduleCode);
      if (code === '10') throw simError('sim-missing', 'no SIM card: the module says "SIM not inserted" (+CME ERROR: 10)', ExitCode.simMissing, 'insert the SIM (contacts down), power-cycle the module');
      if (code === '13') throw simError('sim-failure', 'the SIM failed (+CME ERROR: 13)', ExitCode.simMissing, 'reseat or replace the SIM');
      // 14 = SIM busy (right after boot), others: give it a moment.
      if (Date.now() > deadline) throw simError('sim-not-ready', `the SIM never became ready: ${err.message}`, ExitCode.simMissing, 'check the SIM and its holder; run `atbridge doctor`');
      ctx.progress(`SIM not ready yet (${err.meaning ?? err.message}); waiting`);
      await sleep(1000, ctx.signal);
      continue;
    }
    if (state === 'READY') return state;
    if (state === 'SIM PIN') {
      if (ctx.vars.pin === undefined) throw simError('sim-pin-required', 'the SIM needs its PIN', ExitCode.simPin, 'pass --pin or set ATBRIDGE_SIM_PIN');
      ctx.progress('unlocking the SIM with the PIN');
      try {
        await run(ctx, 'simUnlock');
      } catch (err) {
        if (err instanceof AtError) throw simError('sim-pin-wrong', `the SIM refused the PIN (${err.meaning ?? err.message}); not retrying, to keep the PUK away`, ExitCode.simPin, 'check the PIN; three wrong tries lock the SIM');
        throw err;
      }
      await sleep(1000, ctx.signal);
      continue;
    }
    if (/PUK/.test(state)) throw simError('sim-puk-required', `the SIM is locked (${state})`, ExitCode.simPin, 'unlock it with the PUK in a phone');
    if (Date.now() > deadline) throw simError('sim-not-ready', `the SIM stays "${state}"`, ExitCode.simMissing, 'check the SIM and its holder');
    await sleep(1000, ctx.signal);
  }
}

/** TS 27.007 <stat> registered: home (1), roaming (5). */
export const REGISTERED: ReadonlySet<string> = new Set(['1', '5']);

async function waitForRegistration(ctx: StepContext, options: AttachOptions, notRegistered: () => Promise<void>): Promise<Record<string, string>> {
  const deadline = Date.now() + options.registrationTimeoutMs;
  let last = '';
  for (;;) {
    const states: Record<string, string> = {};
    for (const name of ctx.profile.script('registration')) {
      const res = await run(ctx, name, { optional: true });
      if (res.ok && res.groups.stat !== undefined) states[name] = res.groups.stat;
      // Registered on the first technology asked about: the others do not matter for data.
      if (REGISTERED.has(res.groups.stat ?? '')) break;
    }
    const summary = summaryOf(ctx, states);
    if (summary !== last && !Object.values(states).some((s) => REGISTERED.has(s))) {
      ctx.progress(`registration: ${summary || 'unknown'}`);
      last = summary;
    }
    if (Object.values(states).some((s) => REGISTERED.has(s))) {
      if (last === '') ctx.progress(`registration: ${summaryOf(ctx, states)}`);
      return states;
    }
    await notRegistered();
    if (Object.values(states).some((s) => s === '3')) {
      throw new AtbridgeError('registration-denied', `the network denied registration (${summary})`, {
        exitCode: ExitCode.notRegistered,
        fix: 'the SIM is not allowed on this network: check the plan is active and covers this network/RAT',
      });
    }
    if (Date.now() > deadline) {
      throw new AtbridgeError('not-registered', `not registered after ${Math.round(options.registrationTimeoutMs / 1000)} s (${summary || 'no answer'})`, {
        exitCode: ExitCode.notRegistered,
        fix: 'check the antenna, coverage and that the SIM is active; registration can take minutes on first use',
      });
    }
    await sleep(options.pollMs, ctx.signal);
  }
}

/**
 * Runs the profile's network-open script (command or transparent). The receive-mode settings go
 * just before the open itself; a step the module refuses in the current state
 * recovers the way its data says (`recoverWith`).
 */
async function openNetwork(ctx: StepContext, options: AttachOptions): Promise<void> {
  const steps = ctx.profile.script(options.transparent ? 'netOpenTransparent' : 'netOpenCommand').filter((s) => ctx.profile.hasCommand(s));
  // The open itself: the `netOpen` role where the script names it (SIM800 reads its address after), else the last step.
  const last = steps.includes('netOpen') ? 'netOpen' : steps.at(-1);
  for (const step of steps) {
    if (step === last) {
      // Push is the power-on default; a module left in buffered mode is still read (on its notices).
      if (!options.transparent && options.recvMode === 'buffered' && ctx.profile.hasCommand('recvBuffered')) await run(ctx, 'recvBuffered');
      if (!options.transparent && options.recvMode === 'push' && ctx.profile.hasCommand('hideSource')) await run(ctx, 'hideSource', { optional: true });
      ctx.progress(`opening the packet data network (${ctx.profile.command(step).send.replace(/^AT/i, '')})`);
    }
    try {
      await run(ctx, step);
    } catch (err) {
      if (err instanceof AtError && !isLinkClosed(err) && step === last) {
        throw new AtbridgeError('netopen-failed', `could not open the data network: ${err.message}`, {
          exitCode: ExitCode.networkFailed,
          fix: netOpenFix(ctx, steps),
        });
      }
      throw err;
    }
  }
}

/**
 * The fix for a failed network open. Where the profile's own open script sets the APN (a step sent
 * only `when` an APN is given) and none was given, the module has no APN to open with: say to
 * pass one, naming the command from the profile's data.
 */
function netOpenFix(ctx: StepContext, steps: readonly string[]): string {
  const apnStep = steps.find((s) => ctx.profile.command(s).when === 'apn');
  const given = ctx.vars.apn !== undefined && ctx.vars.apn !== '';
  if (apnStep !== undefined && !given) {
    const command = ctx.profile.fill(ctx.profile.command(apnStep).send, { ...ctx.vars, apn: 'NAME' });
    return `pass --apn NAME (your operator's APN): this module opens the data network only with an APN set (${command}), and none was given`;
  }
  return 'check the APN (--apn) and that the plan has data; `atbridge doctor` shows the PDP state';
}

function summaryOf(ctx: StepContext, states: Record<string, string>): string {
  return Object.entries(states)
    .map(([name, stat]) => `${name} ${stat} (${ctx.profile.explain('creg', stat) ?? '?'})`)
    .join(', ');
}

function simError(code: ErrorCode, message: string, exitCode: number, fix: string): AtbridgeError {
  return new AtbridgeError(code, message, { exitCode, fix });
}

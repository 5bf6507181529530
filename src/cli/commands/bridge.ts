import type { Command } from 'commander';
import type { Server } from 'node:http';
import { Bridge } from '../../bridge/bridge.js';
import { KEYS, mergeSettings, printConfig, readConfigFile, resolveConfig, type Settings } from '../../bridge/config.js';
import { serveMetrics } from '../../bridge/metrics.js';
import { RemoteLink } from '../../bridge/remote-link.js';
import { AtbridgeError, errorMessage, ExitCode } from '../../errors.js';
import { flushFlightRecorders } from '../../trace/flight-recorder.js';
import { snapshotTraceSet } from '../../trace/trace-set.js';
import { addModemOptions } from '../modem-options.js';
import { checkOutputOptions } from '../output-paths.js';
import { action, collect } from '../run.js';

/** Keys whose flags addModemOptions already defines (same meaning, shared with pub/sub/nc). */
const MODEM_KEYS = new Set(['device', 'profile', 'baud', 'set_baud', 'baud_fallback', 'transparent', 'recv_mode', 'apn', 'pin', 'wifi_ssid', 'wifi_password', 'trace', 'trace_dir']);

interface BridgeCliOptions {
  config?: string;
  printConfig?: boolean;
  snapshot?: boolean;
  [key: string]: unknown;
}

export default function register(program: Command): void {
  const cmd = program
    .command('bridge')
    .description("bridge the local broker to a remote one through the module, as mosquitto's bridge (store-and-forward)")
    .option('--config <file>', 'mosquitto.conf-style bridge settings (flags override; --topic adds)')
    .option('--topic <line>', "'PATTERN [out|in|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]', as mosquitto.conf (repeatable)", collect)
    .option('--print-config', 'check the settings, print them as in effect (defaults included, secrets as ***) and exit')
    .option('--snapshot', 'copy the last snapshot_minutes of the flight recorder (--trace-dir) aside and exit');
  for (const [key, help] of Object.entries(KEYS)) {
    if (key === 'topic' || MODEM_KEYS.has(key)) continue;
    cmd.option(`--${key.replace(/_/g, '-')} <value>`, help);
  }
  addModemOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Example:
  atbridge bridge --device /dev/serial/by-id/usb-SimTech_SIM7600-if02-port0 --apn internet \\
    --local mqtt://127.0.0.1:1883 --remote mqtts://broker.example.com:8883 \\
    --topic 'sensors/# out 1' --topic 'cmd/# in 1' --remote-username pi --metrics 127.0.0.1:9464
Signals: SIGTERM drains the queues and exits; SIGHUP re-reads the topic lines;
SIGUSR1 copies the last snapshot_minutes of the flight recorder (--trace-dir) to DIR/snapshots/.`,
  );
  cmd.action(action((opts: BridgeCliOptions) => runBridge(opts, cmd)));
}

/** The flags given on the command line (not commander defaults) as settings keys. */
function flagSettings(opts: BridgeCliOptions, cmd: Command): Settings {
  const settings: Settings = new Map();
  for (const key of Object.keys(KEYS)) {
    const attribute = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    const value = opts[attribute];
    if (value === undefined || cmd.getOptionValueSource(attribute) === 'default') continue;
    settings.set(key, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
  return settings;
}

async function runBridge(opts: BridgeCliOptions, cmd: Command): Promise<number> {
  const flags = flagSettings(opts, cmd);
  const load = () => mergeSettings(opts.config !== undefined ? readConfigFile(opts.config) : new Map(), flags);
  // Checked in full first: --print-config refuses exactly what the bridge would refuse.
  const config = resolveConfig(load());
  // trace and trace_dir may come from the config file too (the flags were checked before the action).
  checkOutputOptions({ trace: config.modem?.trace, traceDir: config.modem?.traceDir });
  if (opts.printConfig) {
    process.stdout.write(printConfig(config));
    return 0;
  }
  const traceDir = config.modem?.traceDir;
  if (opts.snapshot) {
    if (traceDir === undefined) throw new AtbridgeError('bad-option', '--snapshot copies from the flight recorder: give --trace-dir DIR (or trace_dir in the config)', { exitCode: ExitCode.usage });
    const snap = await snapshotTraceSet(traceDir, config.snapshotMinutes);
    process.stdout.write(`${snap.path}: ${snap.events} events, the last ${config.snapshotMinutes} min\n`);
    return 0;
  }
  // Under systemd the journal stamps each line; on a terminal we do.
  const log = (line: string) => {
    const stamp = process.env.JOURNAL_STREAM ? '' : `${new Date().toISOString().slice(11, 19)} `;
    process.stderr.write(`${stamp}atbridge bridge: ${line}\n`);
  };
  const link = new RemoteLink({ host: config.remote.host, port: config.remote.port, tls: config.remote.tls, modem: config.modem, log });
  const bridge = new Bridge({
    id: config.id,
    local: config.local,
    remote: config.remote,
    link,
    routes: config.routes,
    restart: config.restart,
    notifications: config.notifications,
    queue: config.queue,
    status: config.status,
    log,
  });
  let metrics: Server | undefined;
  try {
    if (config.metrics !== undefined) metrics = await serveMetrics(config.metrics, () => bridge.status());
  } catch (err) {
    await bridge.stop(0);
    throw err;
  }
  const queued = bridge.status().then((s) => s.queue.out.messages + s.queue.in.messages);
  log(`bridge "${config.id}": local ${config.local.host}:${config.local.port} ⇄ ${link.description}, ${config.routes.length} topic line(s)`);
  const left = await queued;
  if (left > 0) log(`${left} message(s) left queued by an earlier run will be delivered first`);
  bridge.start();

  return new Promise<number>((resolve, reject) => {
    let stopping = false;
    const finish = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining and stopping`);
      await bridge.stop(config.drainMs);
      metrics?.close();
      const status = await bridge.status();
      log(`stopped; ${status.queue.out.messages} out / ${status.queue.in.messages} in still queued on disk`);
      process.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', onHup).off('SIGUSR1', onUsr1);
      // Everything is closed; should a stray handle remain, it must not keep a stopped service alive.
      setTimeout(() => process.exit(), 2000).unref();
      resolve(0);
    };
    const onTerm = () => void finish('SIGTERM');
    const onInt = () => void finish('SIGINT');
    const onUsr1 = () => {
      if (traceDir === undefined) {
        log('SIGUSR1: no flight recorder (trace_dir) to snapshot');
        return;
      }
      void flushFlightRecorders()
        .then(() => snapshotTraceSet(traceDir, config.snapshotMinutes))
        .then(
          (snap) => log(`SIGUSR1: the last ${config.snapshotMinutes} min of the flight recorder copied to ${snap.path} (${snap.events} events)`),
          (err: unknown) => log(`SIGUSR1: snapshot failed: ${errorMessage(err)}`),
        );
    };
    const onHup = () => {
      try {
        const next = resolveConfig(load());
        const { added, removed } = bridge.setRoutes(next.routes);
        log(`SIGHUP: topic lines reloaded (${added} added, ${removed} removed, ${next.routes.length} in effect)`);
      } catch (err) {
        log(`SIGHUP: reload failed, keeping the current topics: ${errorMessage(err)}`);
      }
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    process.on('SIGUSR1', onUsr1);
    bridge.once('fatal', (error: AtbridgeError) => {
      if (stopping) return;
      stopping = true;
      void bridge.stop(0).then(() => {
        metrics?.close();
        reject(error);
      });
    });
  });
}

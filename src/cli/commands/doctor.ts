import type { CaptureFormat } from '../../trace/import/index.js';
import type { Command } from 'commander';
import { describeGuess, profileForFamily } from '../../decode/family.js';
import { analyzeEvents } from '../../doctor/analyze.js';
import { hasError, type Finding } from '../../doctor/findings.js';
import type { CheckResult } from '../../doctor/live/report.js';
import { runLiveDoctor } from '../../doctor/live/run-live.js';
import { loadCapture } from '../../doctor/load-capture.js';
import { renderCheck, renderFindings } from '../../doctor/render.js';
import { parseEmulatorUrl } from '../../emulator/options.js';
import { AtbridgeError, ExitCode } from '../../errors.js';
import { getProfile, listProfileIds } from '../../profile/index.js';
import { TraceWriter } from '../../trace/writer.js';
import { emuDevices } from '../modem-options.js';
import { action, intOption } from '../run.js';

interface DoctorOptions {
  device?: string;
  log?: string;
  format: string;
  profile: string;
  trace?: string;
  baud: string;
  json?: boolean;
  tcp?: string;
  broker?: string;
  username?: string;
  pw?: string;
  id?: string;
  watch: number;
  apn?: string;
  pin?: string;
  wifiSsid?: string;
  wifiPassword?: string;
  probeTimeout: number;
  registrationTimeout: number;
  fix?: boolean;
  html?: string;
  interface?: number;
}

/** `atbridge doctor --device … | --log FILE`: checks and findings with stable ids; exit 1 on an error-level finding. */
export default function register(program: Command): void {
  program
    .command('doctor')
    .description('diagnose a module live (--device) or from a captured log (--log): ordered checks, findings with ids, a fix for each')
    .option('--device <path>', `serial device, tcp://host:port, or emu:FAMILY (${emuDevices()})`)
    .option('--log <file>', 'apply the same rules to a capture (JSONL trace or a transcript)')
    .option('--format <format>', 'capture format for --log (auto, jsonl, or an importer name)', 'auto')
    .option('--profile <id>', `firmware profile: ${listProfileIds().join(', ')}, a path to a profile JSON file, or auto`, 'auto')
    .option('--baud <rate>', 'serial rate to try first, or auto', 'auto')
    .option('--tcp <host:port>', 'open a test TCP connection through the module')
    .option('--broker <host:port>', 'finish with an MQTT CONNECT through the module (refused credentials, client id clash, keepalive)')
    .option('-u, --username <user>', 'MQTT user name for --broker')
    .option('-P, --pw <password>', 'MQTT password for --broker (or ATBRIDGE_MQTT_PASSWORD); never printed')
    .option('-i, --id <id>', 'MQTT client id for --broker (to test for a clash with the one your gateway uses)')
    .option('--watch <seconds>', 'stay connected this long watching for drops', intOption('--watch', 1, 600), 5)
    .option('--apn <apn>', 'cellular access point name')
    .option('--pin <pin>', 'SIM PIN (or ATBRIDGE_SIM_PIN)')
    .option('--wifi-ssid <ssid>', 'Wi-Fi network to join (ESP-AT)')
    .option('--wifi-password <password>', 'Wi-Fi password (or ATBRIDGE_WIFI_PASSWORD)')
    .option('--probe-timeout <ms>', 'wait this long for each AT probe', intOption('--probe-timeout', 20, 10_000), 500)
    .option('--registration-timeout <s>', 'give registration this long', intOption('--registration-timeout', 1, 3600), 60)
    .option('--fix', 'repair what can be repaired (a module stuck in transparent mode is escaped either way: that is how it is detected)')
    .option('--trace <file>', 'record the live run as a JSONL trace (passwords masked), for decode or doctor --log later')
    .option('--json', 'print {"checks":[…],"findings":[…]}')
    .option('--interface <n>', 'usbmon captures for --log: the USB interface number of the AT port (default: found from the traffic)', intOption('--interface', 0, 255))
    .option('--html <out>', 'with --log: also write the capture as one page (host, module and network lanes), the findings pinned to their lines')
    .action(
      action(async (opts: DoctorOptions) => {
        if (opts.log !== undefined && opts.device !== undefined) throw usage('give either --device or --log, not both');
        if (opts.log === undefined && opts.device === undefined) {
          throw usage('no --device or --log given', 'atbridge doctor --device /dev/ttyUSB2  or  atbridge doctor --log capture.jsonl');
        }
        if (opts.html !== undefined && opts.log === undefined) throw usage('--html draws a capture: give --log FILE');
        if (opts.log !== undefined && opts.trace !== undefined) throw usage('--trace records a live run (--device); a --log is a trace already');
        const profile = opts.profile === 'auto' ? undefined : checkProfile(opts.profile);
        // A mistyped emulator address is the user's input, not a finding about a module.
        if (opts.device?.startsWith('emu:')) parseEmulatorUrl(opts.device);
        let checks: CheckResult[] = [];
        let findings: Finding[];
        if (opts.log !== undefined) {
          const capture = await loadCapture(opts.log, opts.format, opts.interface !== undefined ? { usbInterface: opts.interface } : {});
          // With no --profile, the family guessed from the content picks the profile (the 3GPP base when it has none).
          const family = profile === undefined ? capture.family : undefined;
          const analysis = await analyzeEvents(capture.events, {
            profile: profile ?? capture.profile,
            perLine: capture.perLine,
            ...(family ? { moduleProfile: profileForFamily(family) } : {}),
          });
          findings = analysis.findings;
          if (!opts.json) {
            process.stdout.write(`${opts.log}: ${analysis.events} events, profile ${analysis.profile}\n`);
            if (profile === undefined && capture.format !== 'jsonl') process.stdout.write(`${describeGuess(family, analysis.profile)}\n`);
          }
          if (opts.html !== undefined) {
            // A family read with the 3GPP base has no profile file of its own: the page uses the capture's.
            const pageProfile = analysis.profile.startsWith('3gpp-') ? capture.profile : analysis.profile;
            const { writeConversationPage } = await import('../../html/write-page.js');
            await writeConversationPage(opts.log, opts.html, { format: opts.format as CaptureFormat | 'auto', profile: pageProfile, ...(opts.interface !== undefined ? { usbInterface: opts.interface } : {}) }, { findings });
          }
        } else {
          const baud = opts.baud === 'auto' ? 'auto' : intOption('--baud', 300, 5_000_000)(opts.baud);
          const tcp = opts.tcp !== undefined ? parseHostPort(opts.tcp, '--tcp') : undefined;
          const broker = opts.broker !== undefined ? parseHostPort(opts.broker, '--broker') : undefined;
          const mqttPassword = opts.pw ?? process.env.ATBRIDGE_MQTT_PASSWORD;
          const pin = opts.pin ?? process.env.ATBRIDGE_SIM_PIN;
          const wifiPassword = opts.wifiPassword ?? process.env.ATBRIDGE_WIFI_PASSWORD;
          const result = await runLiveDoctor({
            device: opts.device!,
            baud,
            profile: profile ?? 'auto',
            probeTimeoutMs: opts.probeTimeout,
            registrationTimeoutMs: opts.registrationTimeout * 1000,
            ...(tcp ? { tcp } : {}),
            ...(broker
              ? {
                  mqtt: {
                    broker,
                    watchMs: opts.watch * 1000,
                    keepalive: 10,
                    ...(opts.username !== undefined ? { username: opts.username } : {}),
                    ...(mqttPassword !== undefined ? { password: mqttPassword } : {}),
                    ...(opts.id !== undefined ? { clientId: opts.id } : {}),
                  },
                }
              : {}),
            ...(opts.apn !== undefined ? { apn: opts.apn } : {}),
            ...(pin !== undefined ? { pin } : {}),
            ...(opts.wifiSsid !== undefined ? { wifiSsid: opts.wifiSsid } : {}),
            ...(wifiPassword !== undefined ? { wifiPassword } : {}),
            ...(opts.json ? {} : { onCheck: (c) => process.stdout.write(renderCheck(c)) }),
          });
          checks = result.checks;
          findings = result.findings;
          if (opts.trace !== undefined) {
            const trace = new TraceWriter(opts.trace, { device: opts.device!, source: 'atbridge doctor', secrets: [wifiPassword, pin, mqttPassword] });
            for (const event of result.events) trace.event(event);
            await trace.close();
          }
          if (!opts.json) process.stdout.write('\n');
        }
        if (opts.json) process.stdout.write(`${JSON.stringify({ checks, findings }, null, 2)}\n`);
        else process.stdout.write(renderFindings(findings));
        return hasError(findings) ? ExitCode.failure : ExitCode.ok;
      }),
    );
}

function usage(message: string, fix?: string): AtbridgeError {
  return new AtbridgeError('bad-option', message, { exitCode: ExitCode.usage, ...(fix ? { fix } : {}) });
}

function checkProfile(id: string): string {
  if (listProfileIds().includes(id)) return id;
  // A path to a profile file: loading it validates it (one line naming the problem).
  if (/[/\\]|\.json$/i.test(id)) {
    getProfile(id);
    return id;
  }
  throw usage(`unknown profile "${id}"; use ${listProfileIds().join(', ')}, a path to a profile JSON file, or auto`);
}

function parseHostPort(text: string, option: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) throw usage(`${option} must be host:port, not "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

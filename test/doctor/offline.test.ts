import { describe, expect, it } from 'vitest';
import { analyzeEvents } from '../../src/doctor/analyze.js';
import { hasError } from '../../src/doctor/findings.js';
import { runLiveDoctor } from '../../src/doctor/live/run-live.js';
import { loadCapture } from '../../src/doctor/load-capture.js';
import { listPorts } from '../../src/doctor/ports.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { REFERENCE_LOGS } from '../helpers/reference-logs.js';

const FAST = { probeTimeoutMs: 120, probes: 1, registrationTimeoutMs: 3000, baud: 115200, profile: 'auto' } as const;
const tx = (data: string): TraceEvent => ({ t: undefined, dir: 'tx', data: Buffer.from(data, 'latin1') });
const rx = (data: string): TraceEvent => ({ t: undefined, dir: 'rx', data: Buffer.from(data, 'latin1') });

async function ids(events: TraceEvent[], profile?: string) {
  const a = await analyzeEvents(events, profile ? { profile } : {});
  return a.findings.map((f) => `${f.id}:${f.severity}`);
}

describe('doctor --log rules over trace events', () => {
  it('the trace of a healthy live run has no error-level finding (the same rules, offline)', async () => {
    const live = await runLiveDoctor({ device: 'emu:sim7600?pacing=0', ...FAST });
    const offline = await analyzeEvents(live.events);
    expect(offline.profile).toBe('sim7600');
    expect(hasError(offline.findings)).toBe(false);
  });

  it('the trace of a run without SIM gives sim-missing offline too', async () => {
    const live = await runLiveDoctor({ device: 'emu:sim7600?pacing=0&sim=missing', ...FAST });
    expect((await analyzeEvents(live.events)).findings.map((f) => f.id)).toContain('sim-missing');
  });

  it('NETOPEN ERROR while registered: netopen-failed (sim7600_01 in bytes)', async () => {
    const found = await ids([tx('AT+CREG?\r'), rx('\r\n+CREG: 0,1\r\n\r\nOK\r\n'), tx('AT+NETOPEN\r'), rx('\r\nERROR\r\n'), tx('AT+NETOPEN\r'), rx('\r\nERROR\r\n')], 'sim7600');
    expect(found).toEqual(['netopen-failed:error']);
  });

  it('LTE-M: +CGREG: 0,4 while +CEREG: 0,1 is registered (the best of CREG/CGREG/CEREG); all three unregistered is not', async () => {
    const poll = (cgreg: string, cereg: string) => [tx('AT+CGREG?\r'), rx(`\r\n+CGREG: ${cgreg}\r\n\r\nOK\r\n`), tx('AT+CEREG?\r'), rx(`\r\n+CEREG: ${cereg}\r\n\r\nOK\r\n`)];
    expect(await ids([...poll('0,4', '0,1'), ...poll('0,4', '0,5')], 'sim7080')).toEqual([]);
    expect(await ids([...poll('0,4', '0,2'), ...poll('0,4', '0,2')], 'sim7080')).toEqual(['not-registered:error']);
  });

  it('one command sent three times in a row mid-log, each met by silence: no-response (a warning); AT retried so is a wake probe', async () => {
    const ok = [tx('AT\r'), rx('\r\nOK\r\n')];
    const silent = (cmd: string) => [tx(`${cmd}\r`), tx(`${cmd}\r`), tx(`${cmd}\r`)];
    expect(await ids([...ok, ...silent('AT+GMR'), ...ok], 'esp-at')).toEqual(['no-response:warning']);
    expect(await ids([...ok, ...silent('AT'), ...ok], 'esp-at')).toEqual([]);
    expect(await ids([...ok, tx('AT+GMR\r'), tx('AT+CWMODE?\r'), tx('AT+CIFSR\r'), ...ok], 'esp-at')).toEqual([]);
  });

  it('another family\'s identification probe rejected is no finding; the profile\'s own command rejected still is', async () => {
    const scan = [tx('ATI\r\n'), rx('\r\nERROR\r\n'), tx('AT+CGMR\r\n'), rx('\r\nERROR\r\n')];
    expect(await ids(scan, 'esp-at')).toEqual([]);
    expect(await ids([...scan, tx('AT+CIPMUX=1\r\n'), rx('\r\nERROR\r\n')], 'esp-at')).toEqual(['command-rejected:warning']);
  });

  it('+CWJAP:2 is wifi-wrong-password; +CWJAP:3 wifi-ap-not-found', async () => {
    expect(await ids([tx('AT+CWJAP="lab","x"\r\n'), rx('\r\n+CWJAP:2\r\n\r\nERROR\r\n')], 'esp-at')).toEqual(['wifi-wrong-password:error']);
    expect(await ids([tx('AT+CWJAP="lab","x"\r\n'), rx('\r\n+CWJAP:3\r\n\r\nFAIL\r\n')], 'esp-at')).toEqual(['wifi-ap-not-found:error']);
    // The join answered late, while a probe AT was in flight: still the join's failure, not AT's.
    const late = [tx('AT+CWJAP="lab","x"\r\n'), rx('\r\nbusy p...\r\n'), tx('AT\r\n'), rx('\r\n+CWJAP:4\r\n\r\nERROR\r\n')];
    expect(await ids(late, 'esp-at')).toEqual(['wifi-join-failed:error', 'module-busy:warning']);
  });

  it('only garbage back: baud-mismatch; garbage amid a working session: line-corruption', async () => {
    expect(await ids([tx('AT\r'), rx('\xff\xfe\x8a\x13\xe0\x91\r\n'), tx('AT\r'), rx('\x80\x81\xfa\xfb\r\n')], 'sim7600')).toContain('baud-mismatch:error');
    expect(await ids([tx('AT\r'), rx('\r\nOK\r\n'), tx('AT+CSQ\r'), rx('\xff\xfe\x8a\x13\xe0\x91\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n')], 'sim7600')).toEqual(['line-corruption:warning']);
    // A person's comment in UTF-8 (here Chinese, as pasted logs carry) is prose, not noise.
    const comment = Buffer.from('//服务器发回的数据\r\n', 'utf8').toString('latin1');
    expect(await ids([tx('AT\r'), rx('\r\nOK\r\n'), rx(comment), tx('AT+CSQ\r'), rx('\r\n+CSQ: 20,99\r\n\r\nOK\r\n')], 'sim7600')).toEqual([]);
  });

  it('a Linux login console (getty) answering AT on the UART: port-busy; one word "login:" alone: nothing', async () => {
    const getty = [tx('AT\r'), rx('\r\nraspberrypi login: AT\r\nPassword: \r\n\r\nLogin incorrect\r\nraspberrypi login: ')];
    expect(await ids(getty, 'sim800')).toContain('port-busy:error');
    expect(await ids([tx('AT\r'), rx('\r\nOK\r\n'), tx('AT+CSQ\r'), rx('\r\n+CSQ: 20,99\r\n\r\nOK\r\n')], 'sim800')).not.toContain('port-busy:error');
  });

  it('an activation ERROR and then +NETOPEN: 0 (the network opened): no netopen-failed', async () => {
    const open = [tx('AT+CGACT=1,1\r'), rx('\r\n+CME ERROR: requested service option not subscribed (#33)\r\n'), tx('AT+NETOPEN\r'), rx('\r\nOK\r\n\r\n+NETOPEN: 0\r\n')];
    expect(await ids(open, 'sim7600')).not.toContain('netopen-failed:error');
    expect(await ids(open.slice(0, 2), 'sim7600')).toContain('netopen-failed:error');
  });

  it('SMS DONE long after the session started: module-rebooted; right after power-on: nothing', async () => {
    const session = [tx('AT\r'), rx('\r\nOK\r\n'), ...Array.from({ length: 9 }, () => [tx('AT+CSQ\r'), rx('\r\n+CSQ: 20,99\r\n\r\nOK\r\n')]).flat()];
    expect(await ids([...session, rx('\r\nSMS DONE\r\n')], 'sim7600')).toEqual(['module-rebooted:warning']);
    expect(await ids([rx('\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n'), ...session], 'sim7600')).toEqual([]);
  });

  it('runs of one character (++++++++++, eeeeeeeeee) between answers are line-corruption; a short +++ or a host separator is not', async () => {
    const ok = [tx('AT\r'), rx('\r\nOK\r\n'), tx('AT+CSQ\r'), rx('\r\n+CSQ: 20,99\r\n\r\nOK\r\n')];
    expect(await ids([...ok, rx('++++++++++++++++++++\r\n'), tx('AT\r'), rx('eeeeeeeeeeeeeeee\r\nOK\r\n')], 'esp-at')).toEqual(['line-corruption:warning']);
    expect(await ids([...ok, rx('----------------------\r\n'), tx('AT\r'), rx('\r\nOK\r\n')], 'esp-at')).toEqual([]);
  });

  it('TLS sockets count as sockets: +CCHOPEN / +QSSLOPEN with an error code is socket-open-failed', async () => {
    expect(await ids([tx('AT+CCHOPEN=0,"example.com",8883,2\r'), rx('\r\nOK\r\n'), rx('\r\n+CCHOPEN: 0,4\r\n')], 'a76xx')).toEqual(['socket-open-failed:error']);
    expect(await ids([tx('AT+QSSLOPEN=1,1,4,"example.com",443,0\r'), rx('\r\nOK\r\n'), rx('\r\n+QSSLOPEN: 4,-1\r\n')], 'quectel')).toEqual(['socket-open-failed:error']);
    expect(await ids([tx('AT+USOCO=0,"example.com",80,1\r'), rx('\r\nOK\r\n'), rx('\r\n+UUSOCO: 0,111\r\n')], 'sim7600')).toEqual(['socket-open-failed:error']);
    expect(await ids([tx('AT+CIPOPEN=0,"TCP","example.com",80\r'), rx('\r\n+CIPERROR: 4\r\n\r\nERROR\r\n')], 'sim7600')).toEqual(['socket-open-failed:error']);
  });

  it('an open whose arguments the firmware refuses (Link type ERROR) is command-rejected, not socket-open-failed', async () => {
    expect(await ids([tx('AT+CIPSTART="SSL","example.com",443\r\n'), rx('\r\nLink type ERROR\r\n\r\nERROR\r\n')], 'esp-at')).toEqual(['command-rejected:warning']);
    expect(await ids([tx('AT+CIPSTART="TCP","example.com",80\r\n'), rx('\r\nDNS Fail\r\n\r\nERROR\r\n')], 'esp-at')).toEqual(['socket-open-failed:error']);
  });

  it('a command refused, then the same command answered OK: the refusal passed, no command-rejected', async () => {
    expect(await ids([tx('AT+CGATT=1\r'), rx('\r\nERROR\r\n'), tx('AT+CGATT=1\r'), rx('\r\nOK\r\n')], 'sim7600')).toEqual([]);
    expect(await ids([tx('AT+CGATT=1\r'), rx('\r\nERROR\r\n'), tx('AT+CGATT?\r'), rx('\r\n+CGATT: 0\r\n\r\nOK\r\n')], 'sim7600')).toEqual(['command-rejected:warning']);
  });

  it("the module's side alone (no command in the log): its ERRORs are command-rejected", async () => {
    expect(await ids([rx('\r\nready\r\n'), rx('\r\nOK\r\n'), rx('\r\nERROR\r\n'), rx('\r\nOK\r\n'), rx('\r\nERROR\r\n')], 'esp-at')).toEqual(['command-rejected:error']);
    expect(await ids([rx('\r\nready\r\n'), rx('\r\nOK\r\n'), rx('\r\nOK\r\n')], 'esp-at')).toEqual([]);
  });

  it('a banner after the host program says it restarts the module (no command for it in the log) is expected', async () => {
    const session = [tx('AT\r'), rx('\r\nOK\r\n'), ...Array.from({ length: 9 }, () => [tx('AT+CSQ\r'), rx('\r\n+CSQ: 20,99\r\n\r\nOK\r\n')]).flat()];
    expect(await ids([...session, rx('Initializing modem...\r\n'), tx('AT\r'), rx('\r\nRDY\r\n\r\nSMS DONE\r\n'), tx('AT\r'), rx('\r\nOK\r\n')], 'sim7600')).toEqual([]);
    // Without that print, or a person's sentence about it, the banner is a restart.
    expect(await ids([...session, tx('AT\r'), rx('\r\nRDY\r\n')], 'sim7600')).toEqual(['module-rebooted:warning']);
    expect(await ids([...session, rx('then the module restarts when I send data\r\n'), tx('AT\r'), rx('\r\nRDY\r\n')], 'sim7600')).toEqual(['module-rebooted:warning']);
  });

  it('unanswered commands: no-response; a +CIPEVENT: network-closed; SEND FAIL: send-failed', async () => {
    expect(await ids([tx('AT\r'), tx('AT\r'), tx('AT\r')], 'sim7600')).toEqual(['no-response:error']);
    expect(await ids([tx('AT\r'), rx('\r\nOK\r\n'), rx('\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n')], 'sim7600')).toEqual(['network-closed:error']);
    expect(await ids([tx('AT+CIPSEND=4\r\n'), rx('\r\nOK\r\n> '), tx('abcd'), rx('\r\nRecv 4 bytes\r\n\r\nSEND FAIL\r\n')], 'esp-at')).toEqual(['send-failed:error']);
  });

  it('an MQTT CONNACK refusing the login in socket data: mqtt-connect-refused', async () => {
    const connack = Buffer.from([0x20, 0x02, 0x00, 0x05]).toString('latin1');
    expect(await ids([tx('AT+CIPSEND=4\r\n'), rx('\r\nOK\r\n> '), tx('abcd'), rx('\r\nSEND OK\r\n'), rx(`\r\n+IPD,4:${connack}`)], 'esp-at')).toEqual(['mqtt-connect-refused:error']);
    // SIM7600 pushes `+IPD4` on a line of its own, then the bytes; the summary names the packet.
    const a = await analyzeEvents([tx('AT+CIPSEND=0,4\r'), rx('\r\n>'), tx('abcd'), rx('\r\nOK\r\n'), rx(`\r\n+IPD4\r\n${connack}`)], { profile: 'sim7600' });
    expect(a.findings.map((f) => f.id)).toEqual(['mqtt-connect-refused']);
    expect(a.findings[0]!.summary).toMatch(/CONNACK/);
  });

  it('"+++" after silence: answers after it are stuck-transparent, silence after it escape-failed', async () => {
    const silence = [tx('AT\r\n'), tx('AT\r\n'), tx('+++')];
    expect(await ids([...silence, tx('AT\r\n'), rx('\r\nOK\r\n')], 'esp-at')).toEqual(['stuck-transparent:error']);
    expect(await ids([...silence, tx('AT\r\n'), tx('AT\r\n')], 'esp-at')).toContain('escape-failed:error');
    expect(await ids([...silence, tx('AT\r\n'), tx('AT\r\n')], 'esp-at')).not.toContain('stuck-transparent:error');
  });

  it('commands typed into a passthrough session go unanswered: stuck-transparent', async () => {
    const passthrough = [tx('AT+CIPMODE=1\r\n'), rx('\r\nOK\r\n'), tx('AT+CIPSEND\r\n'), rx('\r\nOK\r\n\r\n>')];
    expect(await ids([...passthrough, tx('AT\r\n'), tx('AT\r\n'), tx('AT+CIPCLOSE\r\n')], 'esp-at')).toContain('stuck-transparent:error');
    // Data that is not AT commands is just the session.
    expect(await ids([...passthrough, tx('hello\r\n'), tx('world\r\n')], 'esp-at')).toEqual([]);
  });

  it('a goodbye covers only its own connection: after our close and a new open, the peer closing is peer-closed', async () => {
    const disconnect = Buffer.from([0xe0, 0x00]).toString('latin1');
    const publish = Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]).toString('latin1');
    const send = (b: string) => [tx(`AT+CIPSEND=0,${b.length}\r`), rx('\r\n>'), tx(b), rx(`\r\nOK\r\n\r\n+CIPSEND: 0,${b.length},${b.length}\r\n`)];
    const events = [
      ...send(disconnect), tx('AT+CIPCLOSE=0\r'), rx('\r\nOK\r\n\r\n+CIPCLOSE: 0,0\r\n'),
      tx('AT+CIPOPEN=0,"TCP","127.0.0.1",1883\r'), rx('\r\nOK\r\n\r\n+CIPOPEN: 0,0\r\n'),
      ...send(publish), rx('\r\n+IPCLOSE: 0,1\r\n'),
    ];
    expect(await ids(events, 'sim7600')).toContain('peer-closed:warning');
  });

  it('the broker closing after our MQTT DISCONNECT is the goodbye, not peer-closed; without it, it is', async () => {
    const disconnect = Buffer.from([0xe0, 0x00]).toString('latin1');
    const publish = Buffer.from([0x30, 0x03, 0x00, 0x01, 0x61]).toString('latin1');
    const session = (last: string) => [tx('AT+CIPSEND=0,' + last.length + '\r'), rx('\r\n>'), tx(last), rx(`\r\nOK\r\n\r\n+CIPSEND: 0,${last.length},${last.length}\r\n`), rx('\r\n+IPCLOSE: 0,1\r\n')];
    expect(await ids(session(disconnect), 'sim7600')).toEqual([]);
    expect(await ids(session(publish), 'sim7600')).toEqual(['peer-closed:warning']);
  });

  it('MQTT in socket data: an unanswered PINGREQ before the close is keepalive-timeout; quick drops after CONNACK twice, client-id-conflict', async () => {
    const send = (packet: number[]) => {
      const bytes = Buffer.from(packet).toString('latin1');
      return [tx(`AT+CIPSEND=${packet.length}\r\n`), rx('\r\nOK\r\n> '), tx(bytes), rx('\r\nSEND OK\r\n')];
    };
    const at = (t: number, e: TraceEvent): TraceEvent => ({ ...e, t });
    const accepted = rx(`\r\n+IPD,4:${Buffer.from([0x20, 0x02, 0x00, 0x00]).toString('latin1')}`);
    const pingreq = send([0xc0, 0x00]);
    expect(await ids([...pingreq, rx('\r\nCLOSED\r\n')], 'esp-at')).toContain('keepalive-timeout:error');
    // An answered ping is fine: only the close is left to report.
    const answered = await ids([...pingreq, rx(`\r\n+IPD,2:${Buffer.from([0xd0, 0x00]).toString('latin1')}`), rx('\r\nCLOSED\r\n')], 'esp-at');
    expect(answered).not.toContain('keepalive-timeout:error');
    expect(answered.length).toBeGreaterThan(0);
    const session = (t: number) => [at(t, accepted), at(t + 300, rx('\r\nCLOSED\r\n'))];
    expect(await ids([...session(1000), ...session(9000)], 'esp-at')).toContain('client-id-conflict:error');
  });
});

/**
 * Every captured log in fixtures/logs, with what a person reading it would report. Runs once the
 * transcript importers (src/trace/import, importCapture) are in the build.
 */
const EXPECTED: Record<string, string[]> = {
  'sim7600_01_netopen-error-registered.txt': ['netopen-failed'],
  'sim7600_02_netopen-error-fw-LE20B05.txt': ['netopen-failed'],
  'sim7600_03_udp-cipopen-err3.txt': ['socket-open-failed'],
  'sim7600_04_cipopen-ok-urc-unhandled.txt': [],
  'sim7600_06_cipevent-then-sms-done-reboot.txt': ['network-closed', 'module-rebooted'],
  'sim7600_07_cipclose-0-4-http-stalls.txt': ['socket-close-failed'],
  'sim7600_11_power-on-banner-rdy.txt': [],
  'sim7600_13_cmqtt-connect-ok-vs-err32.txt': [],
  'sim7600_15_netopen-urc-glued-sms-done-cmqtt-err34.txt': ['module-rebooted'],
  'sim7600_16_a7670g-sim-failure-then-ready-cgreg-0-0-forever.txt': ['sim-failure', 'not-registered'],
  'sim7600_18_sim800-cpin-error-then-cme-sim-not-inserted.txt': ['sim-missing'],
  'sim7600_20_sim7000-garbled-output-unknown-cause.txt': ['baud-mismatch'],
  // +CREG: 0,0 while +CGREG/+CEREG say registered: registered (the best of the three domains).
  'sim7600_22_sim7000-nbiot-creg-0-0-cgreg-cereg-registered.txt': [],
  'sim7600_23_sim7600e-netopen-ok-multiple-pdp-contexts.txt': [],
  'sim7600_24_sim800-ciprxget-manual-read-flow.txt': [],
  'espat_01_send-fail-then-send-ok.txt': ['send-failed'],
  'espat_03_udp-send-ok-then-send-fail.txt': ['send-failed'],
  // The busy answers are quoted only in the prose around the log, which the importer keeps as notes.
  'espat_05_cipsend-prompt-busy-interleaved.txt': [],
  'espat_06_cipsend-busy-timeout-old-fw.txt': ['module-busy', 'send-failed'],
  'espat_07_cwjap-busy-p-then-mqtt.txt': ['module-busy'],
  'espat_08_cipstart-busy-p-error-closed.txt': ['module-busy', 'socket-open-failed'],
  'espat_09_cwjap-query-no-ap-v2.1.txt': ['wifi-disconnected'],
  // +CWJAP:4 then ERROR arrive late, while the host's probe AT is in flight amid busy p... floods.
  'espat_11_busy-p-during-cwjap-and-cipstart.txt': ['module-busy', 'wifi-join-failed'],
  'espat_13_rst-garbage-then-ready-cipstatus5.txt': ['wifi-join-failed'],
  'espat_20_esp32-passthrough-server-vendor-example.txt': [],
  // Five wake-up ATs 150 ms apart are five commands (an echo comes at once), unanswered.
  'espat_22_wake-probe-at-ate0-timestamped.txt': ['no-response'],
  'espat_25_v0.9-busy-inet-wrong-syntax-link-scargill.txt': ['module-busy', 'send-failed'],
  'espat_26_mqtt-connected-then-sub-disconnect.txt': ['peer-closed'],
  'espat_27_v1.7.4-no-mqtt-commands-error.txt': ['command-rejected'],
  'espat_28_mqttconn-disconnected-error-tencent.txt': ['mqtt-connect-refused'],
  'espat_31_esp32-err-code-cwlap-wifi-off.txt': ['command-rejected'],
  // Echo on, a server set up; 'no change' is a success answer. The CIPSEND errors are only in prose.
  'espat_02_v1.3-server-echo-on-cipsend-error.txt': [],
  // 0,CLOSED and WIFI DISCONNECT come with the host's own AT+RST: expected, not faults.
  'espat_15_rst-boot-log-closed-wifi-disconnect.txt': [],
  // SAVETRANSLINK answered ERROR once; later the port shows garbage (the reboot loop the user reports).
  'espat_16_udp-passthrough-savetranslink-reboot-loop.txt': ['command-rejected', 'line-corruption'],
  // The CLOSED lines follow the host's AT+RESTORE; the CIPSEND errors are only in prose.
  'espat_17_esp32-server-cipdinfo-ipd-cipsend-error.txt': [],
  // The missing +IPD is a firmware bug visible only by its absence; every command succeeds.
  'espat_18_passive-mode-no-ipd-after-link-conn.txt': [],
  // One CIPRECVDATA answered ERROR in a hand-written example: a warning at most.
  'espat_19_udp-passive-mode-data-loss.txt': [],
  // The session typed by hand works; the host's failures are only described.
  'espat_23_manual-cwjap-def-vs-host-failures.txt': [],
  // Every reboot follows the host's AT+RST (one after "busy now ..."): busy, not rebooted.
  'espat_24_v0.9-rst-busy-now-no-change-arduino-forum.txt': ['module-busy'],
  'espat_29_v0.9.2.4-linked-http-get-cipclose-reset.txt': [],
  // busy p... after restart is only in prose; the traced commands all answer OK.
  'espat_32_v3.4-busy-p-after-restart.txt': [],
  // Broken firmware (MEM CHECK FAIL / invalid), and the join times out (+CWJAP:1) — read from a copy
  // that lost its line breaks (`AT+CWJAP="ap-2","…" WIFI CONNECTED +CWJAP:1 FAIL WIFI DISCONNECT`).
  'espat_34_aithinker-invalid-mem-check-fail-cwjap1-fail.txt': ['module-rebooted', 'wifi-join-timeout'],
  // A walkthrough with Chinese comments (UTF-8 prose, not line noise); every step succeeds.
  'sim7600_09_tcp-and-transparent-walkthrough-csdn.txt': [],
  // The paste has no command line, only "+CMQTTSTART: 23" and "ERROR," in prose: the service did not start.
  'sim7600_14_cmqttstart-err23-already-started.txt': ['mqtt-service-failed'],
};
/** Findings a person would not give, which the rules once did: they must stay gone. */
const NOT_EXPECTED: Record<string, string[]> = {
  'espat_24_v0.9-rst-busy-now-no-change-arduino-forum.txt': ['module-rebooted'],
  'sim7600_09_tcp-and-transparent-walkthrough-csdn.txt': ['line-corruption'],
  'espat_15_rst-boot-log-closed-wifi-disconnect.txt': ['module-rebooted', 'wifi-disconnected', 'peer-closed'],
  // "busy inet…" carries a UTF-8 ellipsis from the blog: text, not noise.
  'espat_25_v0.9-busy-inet-wrong-syntax-link-scargill.txt': ['line-corruption'],
};
/** Ids that must NOT appear at error level for a log (a healthy session). */
const HEALTHY = new Set(Object.entries(EXPECTED).filter(([, v]) => v.length === 0).map(([k]) => k));

describe('doctor --log on every reference log in fixtures/logs', () => {
  it('the table covers every reference log', () => {
    expect(REFERENCE_LOGS.length).toBe(44);
    expect(REFERENCE_LOGS.filter((f) => !(f in EXPECTED))).toEqual([]);
  });
  it.each(Object.entries(EXPECTED))('%s → %j', async (file, expected) => {
    const capture = await loadCapture(new URL(`../../fixtures/logs/${file}`, import.meta.url).pathname);
    const a = await analyzeEvents(capture.events, { perLine: capture.perLine, ...(capture.profile ? { profile: capture.profile } : {}) });
    const found = a.findings.map((f) => f.id);
    for (const id of expected) expect(found, JSON.stringify(a.findings, null, 1)).toContain(id);
    for (const id of NOT_EXPECTED[file] ?? []) expect(found, JSON.stringify(a.findings, null, 1)).not.toContain(id);
    if (HEALTHY.has(file)) expect(hasError(a.findings), JSON.stringify(a.findings, null, 1)).toBe(false);
  });
});

describe('atbridge ports', () => {
  it('lists serial ports as an array; a pty is not a USB port', async () => {
    const ports = await listPorts();
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) {
      expect(typeof p.path).toBe('string');
      if (p.path.startsWith('/dev/pts/')) expect(p.vendorId).toBeNull();
    }
  });
});

/** `--help` of pub, sub and rr: the options each takes (mosquitto's names), in atbridge's words. */
import type { Tool } from './mosq-args.js';

const COMMON = [
  '-h host | --unix path   broker host (default localhost) | Unix socket',
  '-p port                 broker port (default 1883; 8883 with --cafile/--capath/--psk)',
  '-L URL                  mqtt(s)://[user[:password]@]host[:port]/topic, also ws:// and wss://',
  '-A address              bind the connection to this local address',
  '-i id | -I prefix       client id | client id prefix (the process id follows)',
  '-u user, -P password    credentials (or ATBRIDGE_MQTT_PASSWORD); never printed',
  '-k seconds              keepalive (5-65535, default 60)',
  '-c                      persistent session (needs -i)',
  '-x seconds              MQTT 5 session expiry (-1 or ∞: never)',
  '-V version              mqttv5, mqttv311 or mqttv31 (5, 311, 31)',
  '-D command name value   MQTT 5 property on connect, publish, subscribe, unsubscribe, disconnect or will',
  '-q qos                  0, 1 or 2',
  '-M n                    most QoS 1/2 messages in flight (default 20)',
  '-d, --quiet             print every packet | print no errors',
  '-o file                 read options from this file (default $XDG_CONFIG_HOME/mosquitto_<tool>, ~/.config/...)',
  '--will-topic t --will-payload p --will-qos q --will-retain   the will',
  '--cafile --capath --cert --key --insecure --tls-version --ciphers --tls-alpn --keyform --tls-use-os-certs --tls-keylog',
  '--psk hex --psk-identity id   TLS-PSK',
  '--proxy socks5h://[user[:password]@]host[:port]   through a SOCKS5 proxy',
  '--ws                    MQTT over WebSocket',
  '--device d [--apn --pin --wifi-ssid --wifi-password --profile --baud --set-baud --transparent --recv-mode --trace]',
  '                        through a module (serial port, tcp://host:port, emu:FAMILY as emu:sim7600)',
];

const PER_TOOL: Record<Tool, { synopsis: string; lines: string[] }> = {
  pub: {
    synopsis: '{-t topic | -L URL} {-m message | -f file | -l | -s | -n} [options]',
    lines: ['-m text | -f file | -l | -s | -n   the message: text, a file, stdin per line, stdin whole, empty', '-r                      retain', '--repeat n --repeat-delay s   publish n times', '--queue dir             durable queue for QoS 1/2 messages (atbridge)'],
  },
  sub: {
    synopsis: '{-t filter ... | -L URL | -U filter ...} [options]',
    lines: [
      '-t filter, -T filter, -U filter   subscribe, filter out, unsubscribe (repeatable)',
      '-C n, -W s, -E          exit after n messages | after s seconds (code 27) | once subscribed',
      '-v, -N, -F format, --pretty   output: topic, no newline, format (%t %p %j ... @Y \\n), pretty JSON',
      '-R, --retained-only, --remove-retained, --retain-as-published, --random-filter percent',
    ],
  },
  rr: {
    synopsis: '{-t topic | -L URL} -e response-topic {-m message | -f file | -s | -n} [options]',
    lines: ['-e topic                the response topic (MQTT 5 response-topic property)', '-m | -f | -s | -n       the request', '-W s, -v, -N, -F format   as sub'],
  },
};

export function usageText(tool: Tool, name: string, version: string): string {
  const t = PER_TOOL[tool];
  return [`${name} (atbridge ${version}): mosquitto_${tool}'s options, directly or through a module.`, '', `Usage: ${name} ${t.synopsis}`, '', ...[...t.lines, ...COMMON].map((l) => ` ${l}`), ''].join('\n') + '\n';
}

/**
 * The options of `atbridge pub`, `sub` and `rr`, read as mosquitto_pub, mosquitto_sub and
 * mosquitto_rr read them (2.0.11 and the 2.1 additions): the same names, the same order of checks,
 * the same messages. An options file (-o, or $XDG_CONFIG_HOME/mosquitto_pub, ~/.config/...) is read
 * first, one option per line. atbridge's own options (--device and the modem options, --queue) are
 * accepted the same way.
 */
import { readFileSync } from 'node:fs';
import { filterProblem, publishTopicProblem } from '../topic.js';
import { formatProblem } from './format.js';
import { MosqUsageError } from './mosq-errors.js';
import { atol, emptyPropertyLists, parseProperty, type PropertyLists } from './mosq-props.js';

export type Tool = 'pub' | 'sub' | 'rr';
export type PubMode = 'none' | 'cmd' | 'file' | 'stdin-line' | 'stdin-file' | 'null';

export interface TlsConfig {
  cafile?: string;
  capath?: string;
  cert?: string;
  key?: string;
  ciphers?: string;
  tlsVersion?: string;
  alpn?: string;
  engine?: string;
  keyform?: string;
  kpassSha1?: string;
  keylog?: string;
  psk?: string;
  pskIdentity?: string;
  insecure: boolean;
  useOsCerts: boolean;
  noTls: boolean;
}

export interface ProxyConfig {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

/** The atbridge-only options (module access and the durable queue), by their CLI names. */
export const MODEM_VALUE_OPTIONS = ['--device', '--profile', '--baud', '--set-baud', '--recv-mode', '--apn', '--pin', '--wifi-ssid', '--wifi-password', '--trace', '--queue'] as const;
export const MODEM_FLAG_OPTIONS = ['--transparent'] as const;

export interface MosqConfig {
  tool: Tool;
  host: string;
  /** undefined: 1883, or 8883 with --cafile/--capath/--psk. 0 with --unix. */
  port: number | undefined;
  unixPath?: string;
  bindAddress?: string;
  id?: string;
  idPrefix?: string;
  username?: string;
  password?: string;
  keepalive: number;
  cleanSession: boolean;
  debug: boolean;
  quiet: boolean;
  protocolVersion: 3 | 4 | 5;
  maxInflight: number;
  nodelay: boolean;
  transport: 'tcp' | 'ws';
  tls: TlsConfig;
  proxy?: ProxyConfig;
  /** -1: not given. */
  sessionExpiry: number;
  will?: { topic: string; payload?: string; qos: 0 | 1 | 2; retain: boolean };
  willPayload?: string;
  willQos: 0 | 1 | 2;
  willRetain: boolean;
  props: PropertyLists;
  // pub / rr
  topic?: string;
  responseTopic?: string;
  pubMode: PubMode;
  message?: string;
  file?: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  repeatCount: number;
  repeatDelayMs: number;
  // sub / rr
  topics: string[];
  filterOuts: string[];
  unsubTopics: string[];
  msgCount: number;
  timeout: number;
  exitAfterSub: boolean;
  eol: boolean;
  format?: string;
  pretty: boolean;
  verbose: boolean;
  noRetain: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  retainAsPublished: boolean;
  /** Per ten thousand: a message is printed with this chance (--random-filter percent × 100). */
  randomFilter: number;
  watch: boolean;
  /** atbridge's own options, as given (e.g. { '--device': 'emu:sim7600' }). */
  modem: Record<string, string | true>;
}

/** What parsing ended in: a configuration, or --help / --version (mosquitto exits 1 after printing either). */
export type ParseResult = { kind: 'config'; config: MosqConfig } | { kind: 'help' } | { kind: 'version' };

function initConfig(tool: Tool): MosqConfig {
  return {
    tool,
    host: 'localhost',
    port: undefined,
    keepalive: 60,
    cleanSession: true,
    debug: false,
    quiet: false,
    protocolVersion: tool === 'rr' ? 5 : 4,
    maxInflight: 20,
    nodelay: false,
    transport: 'tcp',
    tls: { insecure: false, useOsCerts: false, noTls: false },
    sessionExpiry: -1,
    willQos: 0,
    willRetain: false,
    props: emptyPropertyLists(),
    pubMode: 'none',
    qos: 0,
    retain: false,
    repeatCount: 1,
    repeatDelayMs: 0,
    topics: [],
    filterOuts: [],
    unsubTopics: [],
    msgCount: tool === 'rr' ? 1 : 0,
    timeout: 0,
    exitAfterSub: false,
    eol: true,
    pretty: false,
    verbose: false,
    noRetain: false,
    retainedOnly: false,
    removeRetained: false,
    retainAsPublished: false,
    randomFilter: 10000,
    watch: false,
    modem: {},
  };
}

const usage = (text: string) => new MosqUsageError(text);
const missing = (option: string, what: string) => usage(`Error: ${option} argument given but no ${what} specified.\n\n`);

/** Where mosquitto looks for its default options file. */
export function defaultOptionsFile(tool: Tool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = `mosquitto_${tool}`;
  if (env.XDG_CONFIG_HOME) return `${env.XDG_CONFIG_HOME}/${name}`;
  if (env.HOME) return `${env.HOME}/.config/${name}`;
  return undefined;
}

/** Options file lines as argument lists: '#' lines skipped, the first word, then the rest of the line as one argument. */
export function optionsFileArgs(text: string): string[][] {
  const result: string[][] = [];
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#')) continue;
    const line = raw.replace(/[\r\n]+$/, '');
    const m = /^ *([^ ]+)(?: +(.*))?$/.exec(line);
    if (!m) continue;
    const rest = m[2];
    result.push(rest !== undefined && rest !== '' ? [m[1]!, rest] : [m[1]!]);
  }
  return result;
}

/** Parses argv (without the program name) the way mosquitto's clients do. Throws MosqUsageError. */
export function parseMosqArgs(tool: Tool, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParseResult {
  const cfg = initConfig(tool);
  let optionsFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-o') continue;
    if (optionsFile !== undefined) throw usage('Error: Duplicate -o argument given.\n\n');
    if (i === argv.length - 1) throw missing('-o', 'options file');
    optionsFile = argv[i + 1]!;
  }
  const file = optionsFile ?? defaultOptionsFile(tool, env);
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined; // mosquitto goes on without a file it cannot open
    }
    if (text !== undefined) {
      for (const args of optionsFileArgs(text)) {
        const r = lineProc(cfg, args);
        if (r !== undefined) return r;
      }
    }
  }
  const r = lineProc(cfg, argv);
  if (r !== undefined) return r;
  finalChecks(cfg);
  return { kind: 'config', config: cfg };
}

function finalChecks(cfg: MosqConfig): void {
  if (cfg.willPayload !== undefined && cfg.will === undefined) throw new MosqUsageError('Error: Will payload given, but no will topic given.\n');
  if (cfg.willRetain && cfg.will === undefined) throw new MosqUsageError('Error: Will retain given, but no will topic given.\n');
  if (cfg.will) {
    cfg.will.qos = cfg.willQos;
    cfg.will.retain = cfg.willRetain;
    if (cfg.willPayload !== undefined) cfg.will.payload = cfg.willPayload;
  }
  const t = cfg.tls;
  if ((t.cert !== undefined) !== (t.key !== undefined)) throw usage('Error: Both certfile and keyfile must be provided if one of them is set.\n');
  if (t.keyform !== undefined && t.key === undefined) throw usage('Error: If keyform is set, keyfile must be also specified.\n');
  if (t.kpassSha1 !== undefined && (t.keyform === undefined || t.engine === undefined)) {
    throw usage('Error: when using tls-engine-kpass-sha1, both tls-engine and keyform must also be provided.\n');
  }
  if ((t.cafile !== undefined || t.capath !== undefined) && t.psk !== undefined) throw usage('Error: Only one of --psk or --cafile/--capath may be used at once.\n');
  if (t.psk !== undefined && t.pskIdentity === undefined) throw usage('Error: --psk-identity required if --psk used.\n');
  if (cfg.protocolVersion === 5) {
    if (!cfg.cleanSession && cfg.sessionExpiry === -1) cfg.sessionExpiry = 0xffffffff;
    if (cfg.sessionExpiry > 0) {
      if (cfg.sessionExpiry === 0xffffffff && (cfg.idPrefix !== undefined || cfg.id === undefined)) {
        throw usage('Error: You must provide a client id if you are using an infinite session expiry interval.\n');
      }
      cfg.props.connect.sessionExpiryInterval = cfg.sessionExpiry;
    }
  } else if (!cfg.cleanSession && (cfg.idPrefix !== undefined || cfg.id === undefined)) {
    throw usage('Error: You must provide a client id if you are using the -c option.\n');
  }
  if (cfg.tool === 'sub' && cfg.topics.length === 0 && cfg.unsubTopics.length === 0) {
    throw usage('Error: You must specify a topic to subscribe to (-t) or unsubscribe from (-U).\n');
  }
}

function validUtf8(s: string): boolean {
  return !s.includes('\ufffd') && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
}

function addTopic(cfg: MosqConfig, kind: Tool | 'response', topic: string, arg: string): void {
  if (!validUtf8(topic)) throw usage(`Error: Malformed UTF-8 in ${arg} argument.\n\n`);
  if (kind === 'pub' || kind === 'rr') {
    if (publishTopicProblem(topic) !== undefined && topic !== '') throw usage(`Error: Invalid publish topic '${topic}', does it contain '+' or '#'?\n`);
    cfg.topic = topic;
  } else if (kind === 'response') {
    if (publishTopicProblem(topic) !== undefined && topic !== '') throw usage(`Error: Invalid response topic '${topic}', does it contain '+' or '#'?\n`);
    cfg.responseTopic = topic;
  } else {
    if (filterProblem(topic) !== undefined && topic !== '') throw usage(`Error: Invalid subscription topic '${topic}', are all '+' and '#' wildcards correct?\n`);
    cfg.topics.push(topic);
  }
}

function setMode(cfg: MosqConfig, mode: PubMode): void {
  if (cfg.pubMode !== 'none') throw usage('Error: Only one type of message can be sent at once.\n\n');
  cfg.pubMode = mode;
}

/** C's atoi over a whole int range (mosquitto reads most numbers with it). */
const atoi = atol;

/** Options that take a value, with the words of their "no value" message; each applies to the tools listed. */
interface ValueOption {
  names: string[];
  what: string;
  /** Which tools know the option (an unknown one is "Unknown option"). */
  tools?: Tool[];
  apply: (cfg: MosqConfig, value: string, name: string) => void;
}

const PUB_RR: Tool[] = ['pub', 'rr'];
const SUB_RR: Tool[] = ['sub', 'rr'];

const VALUE_OPTIONS: ValueOption[] = [
  { names: ['-A'], what: 'address', apply: (c, v) => (c.bindAddress = v) },
  { names: ['--cafile'], what: 'file', apply: (c, v) => (c.tls.cafile = v) },
  { names: ['--capath'], what: 'directory', apply: (c, v) => (c.tls.capath = v) },
  { names: ['--cert'], what: 'file', apply: (c, v) => (c.tls.cert = v) },
  { names: ['--ciphers'], what: 'ciphers', apply: (c, v) => (c.tls.ciphers = v) },
  {
    names: ['-C'],
    what: 'count',
    tools: ['sub'],
    apply: (c, v) => {
      c.msgCount = atoi(v);
      if (c.msgCount < 1) throw usage(`Error: Invalid message count "${c.msgCount}".\n\n`);
    },
  },
  { names: ['-e'], what: 'response topic', tools: ['rr'], apply: (c, v) => addTopic(c, 'response', v, '-e') },
  {
    names: ['-f', '--file'],
    what: 'file',
    tools: PUB_RR,
    apply: (c, v) => {
      c.pubMode = 'file';
      c.file = v;
    },
  },
  {
    names: ['-F'],
    what: 'format',
    tools: SUB_RR,
    apply: (c, v) => {
      const problem = formatProblem(v);
      if (problem) throw usage(`Error: ${problem}\n`);
      c.format = v;
    },
  },
  { names: ['-h', '--host'], what: 'host', apply: (c, v) => (c.host = v) },
  {
    names: ['-i', '--id'],
    what: 'id',
    apply: (c, v) => (c.id = v),
  },
  { names: ['-I', '--id-prefix'], what: 'id prefix', apply: (c, v) => (c.idPrefix = v) },
  {
    names: ['-k', '--keepalive'],
    what: 'keepalive',
    apply: (c, v) => {
      c.keepalive = atoi(v);
      if (c.keepalive < 5 || c.keepalive > 65535) throw usage('Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n');
    },
  },
  { names: ['--key'], what: 'file', apply: (c, v) => (c.tls.key = v) },
  { names: ['--keyform'], what: 'keyform', apply: (c, v) => (c.tls.keyform = v) },
  { names: ['-L', '--url'], what: 'URL', apply: (c, v) => applyUrl(c, v) },
  {
    names: ['-m', '--message'],
    what: 'message',
    tools: PUB_RR,
    apply: (c, v) => {
      if (Buffer.byteLength(v) > 268435455) throw usage('Error: Message length must be less than 268435455 bytes.\n\n');
      c.message = v;
      c.pubMode = 'cmd';
    },
  },
  {
    names: ['-M'],
    what: 'max_inflight',
    apply: (c, v) => {
      const n = atoi(v);
      if (n < 1) throw usage('Error: Maximum inflight messages must be greater than 0.\n\n');
      c.maxInflight = n;
    },
  },
  {
    names: ['-p', '--port'],
    what: 'port',
    apply: (c, v) => {
      c.port = atoi(v);
      if (c.port < 0 || c.port > 65535) throw usage(`Error: Invalid port given: ${c.port}\n`);
    },
  },
  { names: ['-P', '--pw'], what: 'password', apply: (c, v) => (c.password = v) },
  { names: ['--proxy'], what: 'proxy url', apply: (c, v) => (c.proxy = parseSocksUrl(v)) },
  { names: ['--psk'], what: 'key', apply: (c, v) => (c.tls.psk = v) },
  { names: ['--psk-identity'], what: 'identity', apply: (c, v) => (c.tls.pskIdentity = v) },
  {
    names: ['-q', '--qos'],
    what: 'QoS',
    apply: (c, v) => {
      const q = atoi(v);
      if (q < 0 || q > 2) throw usage(`Error: Invalid QoS given: ${q}\n`);
      c.qos = q as 0 | 1 | 2;
    },
  },
  {
    names: ['--random-filter'],
    what: 'chance',
    tools: ['sub'],
    apply: (c, v) => {
      c.randomFilter = Math.trunc(10.0 * atof(v));
      if (c.randomFilter > 10000 || c.randomFilter < 1) throw usage('Error: --random-filter chance must be between 0.1-100.0\n\n');
    },
  },
  {
    names: ['--repeat'],
    what: 'count',
    tools: ['pub'],
    apply: (c, v) => {
      c.repeatCount = atoi(v);
      if (c.repeatCount < 1) throw usage('Error: --repeat argument must be >0.\n\n');
    },
  },
  {
    names: ['--repeat-delay'],
    what: 'time',
    tools: ['pub'],
    apply: (c, v) => {
      const f = atof(v);
      if (f < 0) throw usage('Error: --repeat-delay argument must be >=0.0.\n\n');
      c.repeatDelayMs = f * 1000;
    },
  },
  { names: ['-t', '--topic'], what: 'topic', apply: (c, v) => addTopic(c, c.tool, v, '-t') },
  {
    names: ['-T', '--filter-out'],
    what: 'topic filter',
    tools: ['sub'],
    apply: (c, v) => {
      if (!validUtf8(v)) throw usage('Error: Malformed UTF-8 in -T argument.\n\n');
      if (filterProblem(v) !== undefined && v !== '') throw usage(`Error: Invalid filter topic '${v}', are all '+' and '#' wildcards correct?\n`);
      c.filterOuts.push(v);
    },
  },
  { names: ['--tls-alpn'], what: 'protocol', apply: (c, v) => (c.tls.alpn = v) },
  { names: ['--tls-engine'], what: 'engine_id', apply: (c, v) => (c.tls.engine = v) },
  { names: ['--tls-engine-kpass-sha1'], what: 'kpass sha1', apply: (c, v) => (c.tls.kpassSha1 = v) },
  { names: ['--tls-version'], what: 'version', apply: (c, v) => (c.tls.tlsVersion = v) },
  { names: ['--tls-keylog'], what: 'file', apply: (c, v) => (c.tls.keylog = v) },
  {
    names: ['-U', '--unsubscribe'],
    what: 'unsubscribe topic',
    tools: ['sub'],
    apply: (c, v) => {
      if (!validUtf8(v)) throw usage('Error: Malformed UTF-8 in -U argument.\n\n');
      if (filterProblem(v) !== undefined && v !== '') throw usage(`Error: Invalid unsubscribe topic '${v}', are all '+' and '#' wildcards correct?\n`);
      c.unsubTopics.push(v);
    },
  },
  { names: ['-u', '--username'], what: 'username', apply: (c, v) => (c.username = v) },
  {
    names: ['--unix'],
    what: 'socket path',
    apply: (c, v) => {
      c.host = v;
      c.unixPath = v;
      c.port = 0;
    },
  },
  {
    names: ['-V', '--protocol-version'],
    what: 'version',
    apply: (c, v) => {
      const versions: Record<string, 3 | 4 | 5> = { mqttv31: 3, '31': 3, mqttv311: 4, '311': 4, mqttv5: 5, '5': 5 };
      const version = versions[v];
      if (version === undefined) throw usage('Error: Invalid protocol version argument given.\n\n');
      c.protocolVersion = version;
    },
  },
  {
    names: ['-W'],
    what: 'timeout',
    tools: SUB_RR,
    apply: (c, v) => {
      const n = atoi(v);
      if (n < 1) throw usage(`Error: Invalid timeout "${n}".\n\n`);
      c.timeout = n;
    },
  },
  { names: ['--will-payload'], what: 'will payload', apply: (c, v) => (c.willPayload = v) },
  {
    names: ['--will-qos'],
    what: 'will QoS',
    apply: (c, v) => {
      const q = atoi(v);
      if (q < 0 || q > 2) throw usage(`Error: Invalid will QoS ${q}.\n\n`);
      c.willQos = q as 0 | 1 | 2;
    },
  },
  {
    names: ['--will-topic'],
    what: 'will topic',
    apply: (c, v) => {
      if (!validUtf8(v)) throw usage('Error: Malformed UTF-8 in --will-topic argument.\n\n');
      if (publishTopicProblem(v) !== undefined && v !== '') throw usage(`Error: Invalid will topic '${v}', does it contain '+' or '#'?\n`);
      c.will = { topic: v, qos: 0, retain: false };
    },
  },
  { names: ['-x'], what: 'session expiry interval', apply: (c, v) => applyExpiry(c, v) },
];

/** The "no value" message names the option as mosquitto does (-V is "--protocol-version"). */
const MISSING_NAME: Record<string, string> = { '--host': '-h', '--id': '-i', '--id-prefix': '-I', '--keepalive': '-k', '--url': '-L', '--message': '-m', '--port': '-p', '--pw': '-P', '--qos': '-q', '--topic': '-t', '--filter-out': '-T', '--unsubscribe': '-U', '--username': '-u', '-V': '--protocol-version', '--file': '-f' };

interface FlagOption {
  names: string[];
  tools?: Tool[];
  apply: (cfg: MosqConfig) => void;
}

const FLAG_OPTIONS: FlagOption[] = [
  { names: ['-c', '--disable-clean-session'], apply: (c) => (c.cleanSession = false) },
  { names: ['-d', '--debug'], apply: (c) => (c.debug = true) },
  { names: ['-E'], tools: ['sub'], apply: (c) => (c.exitAfterSub = true) },
  { names: ['--insecure'], apply: (c) => (c.tls.insecure = true) },
  { names: ['-l', '--stdin-line'], tools: ['pub'], apply: (c) => setMode(c, 'stdin-line') },
  { names: ['--nodelay'], apply: (c) => (c.nodelay = true) },
  { names: ['--no-tls'], apply: (c) => (c.tls.noTls = true) },
  { names: ['-n', '--null-message'], tools: PUB_RR, apply: (c) => setMode(c, 'null') },
  { names: ['-N'], tools: SUB_RR, apply: (c) => (c.eol = false) },
  { names: ['--pretty'], tools: SUB_RR, apply: (c) => (c.pretty = true) },
  { names: ['--quiet'], apply: (c) => (c.quiet = true) },
  { names: ['-r', '--retain'], tools: ['pub'], apply: (c) => (c.retain = true) },
  { names: ['-R'], tools: SUB_RR, apply: (c) => (c.noRetain = true) },
  { names: ['--remove-retained'], tools: ['sub'], apply: (c) => (c.removeRetained = true) },
  { names: ['--retain-as-published'], tools: SUB_RR, apply: (c) => (c.retainAsPublished = true) },
  { names: ['--retained-only'], tools: ['sub'], apply: (c) => (c.retainedOnly = true) },
  { names: ['-s', '--stdin-file'], tools: PUB_RR, apply: (c) => setMode(c, 'stdin-file') },
  { names: ['--tls-use-os-certs'], apply: (c) => (c.tls.useOsCerts = true) },
  { names: ['-v', '--verbose'], tools: SUB_RR, apply: (c) => (c.verbose = true) },
  { names: ['-w', '--watch'], tools: ['sub'], apply: (c) => (c.watch = true) },
  { names: ['--will-retain'], apply: (c) => (c.willRetain = true) },
  { names: ['--ws'], apply: (c) => (c.transport = 'ws') },
];

const VALUE_BY_NAME = new Map(VALUE_OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));
const FLAG_BY_NAME = new Map(FLAG_OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));

function lineProc(cfg: MosqConfig, args: readonly string[]): ParseResult | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const unknown = () => new MosqUsageError(`Error: Unknown option '${arg}'.\n`);
    if (arg === '--help') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (arg === '-o') {
      i++;
      continue;
    }
    if (arg === '-D' || arg === '--property') {
      i += parseProperty(args, i + 1, cfg.props);
      cfg.protocolVersion = 5;
      continue;
    }
    const value = VALUE_BY_NAME.get(arg);
    if (value) {
      if (value.tools && !value.tools.includes(cfg.tool)) throw unknown();
      if (arg === '-i' || arg === '--id') {
        if (cfg.idPrefix !== undefined) throw usage('Error: -i and -I argument cannot be used together.\n\n');
      } else if (arg === '-I' || arg === '--id-prefix') {
        if (cfg.id !== undefined) throw usage('Error: -i and -I argument cannot be used together.\n\n');
      }
      if ((arg === '-f' || arg === '--file' || arg === '-m' || arg === '--message') && cfg.pubMode !== 'none') {
        throw usage('Error: Only one type of message can be sent at once.\n\n');
      }
      if (i === args.length - 1) {
        if (arg === '-M') throw usage('Error: -M argument given but max_inflight not specified.\n\n');
        throw missing(MISSING_NAME[arg] ?? arg, value.what);
      }
      value.apply(cfg, args[i + 1]!, arg);
      i++;
      continue;
    }
    const flag = FLAG_BY_NAME.get(arg);
    if (flag) {
      if (flag.tools && !flag.tools.includes(cfg.tool)) throw unknown();
      flag.apply(cfg);
      continue;
    }
    if ((MODEM_VALUE_OPTIONS as readonly string[]).includes(arg)) {
      if (i === args.length - 1) throw missing(arg, 'value');
      cfg.modem[arg] = args[++i]!;
      continue;
    }
    if ((MODEM_FLAG_OPTIONS as readonly string[]).includes(arg)) {
      cfg.modem[arg] = true;
      continue;
    }
    throw unknown();
  }
  return undefined;
}

/** C's atof: the longest leading decimal number; nothing is 0. */
function atof(value: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf(inity)?|nan)/i.exec(value);
  return m ? Number(m[0].trim().replace(/^([+-]?)inf(inity)?$/i, '$1Infinity')) : 0;
}

function applyExpiry(cfg: MosqConfig, v: string): void {
  if (v === '∞') {
    cfg.sessionExpiry = 0xffffffff;
  } else {
    // strtol with base 0: decimal, 0x hex or 0 octal, the whole argument.
    const m = /^\s*([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)$/i.exec(v);
    if (!m) throw usage('Error: session-expiry-interval not a number.\n\n');
    const body = m[2]!;
    const magnitude = /^0x/i.test(body) ? parseInt(body, 16) : body.length > 1 && body.startsWith('0') ? parseInt(body, 8) : Number(body);
    const n = m[1] === '-' ? -magnitude : magnitude;
    if (n > 0xffffffff || n < -1) throw usage('Error: session-expiry-interval out of range.\n\n');
    cfg.sessionExpiry = n === -1 ? 0xffffffff : n;
  }
  cfg.protocolVersion = 5;
}

/** -L mqtt(s)://[user[:password]@]host[:port]/topic, also ws:// and wss://. */
function applyUrl(cfg: MosqConfig, value: string): void {
  const schemes: Array<[string, number, boolean, 'tcp' | 'ws']> = [
    ['mqtt://', 1883, false, 'tcp'],
    ['mqtts://', 8883, true, 'tcp'],
    ['ws://', 1883, false, 'ws'],
    ['wss://', 8883, true, 'ws'],
  ];
  const scheme = schemes.find(([prefix]) => value.toLowerCase().startsWith(prefix));
  if (!scheme) throw usage('Error: Unsupported URL scheme.\n\n');
  const [prefix, port, secure, transport] = scheme;
  cfg.port = port;
  if (secure) cfg.tls.useOsCerts = true;
  if (transport === 'ws') cfg.transport = 'ws';
  let url = value.slice(prefix.length);
  const slash = url.indexOf('/');
  if (slash < 0) throw new MosqUsageError('Error: Invalid URL for -L argument specified - topic missing.\n');
  addTopic(cfg, cfg.tool, url.slice(slash + 1), '-L topic');
  url = url.slice(0, slash);
  const at = url.indexOf('@');
  if (at >= 0) {
    const auth = url.slice(0, at);
    const colon = auth.indexOf(':');
    if (colon >= 0) cfg.password = auth.slice(colon + 1);
    cfg.username = colon >= 0 ? auth.slice(0, colon) : auth;
    url = url.slice(at + 1);
  }
  const colon = url.indexOf(':');
  if (colon >= 0) {
    cfg.port = atoi(url.slice(colon + 1));
    url = url.slice(0, colon);
  }
  cfg.host = url;
}

/** %25 → %, %3A → :, %40 → @ (the three mosquitto decodes in a proxy URL's user and password). */
function urlDecode(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') {
      out += s[i];
      continue;
    }
    const code = s.slice(i + 1, i + 3).toLowerCase();
    const decoded = ({ '25': '%', '3a': ':', '40': '@' } as Record<string, string>)[code];
    if (decoded === undefined) return undefined;
    out += decoded;
    i += 2;
  }
  return out;
}

/** --proxy socks5h://[user[:password]@]host[:port] */
export function parseSocksUrl(url: string): ProxyConfig {
  const prefix = 'socks5h://';
  if (!url.startsWith(prefix)) throw new MosqUsageError(`Error: Unsupported proxy protocol: ${url}\n`);
  let rest = url.slice(prefix.length);
  const result: ProxyConfig = { host: '', port: 1080 };
  const bad = () => new MosqUsageError(`Error: Invalid proxy url "${url}".\n`);
  const at = rest.indexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    const parts = auth.split(':');
    if (parts.length > 2) throw new MosqUsageError('Error: Username cannot contain \':\'.\n');
    if (parts[0] === '' && parts.length === 2) throw bad();
    const username = urlDecode(parts[0]!);
    const password = parts.length === 2 ? urlDecode(parts[1]!) : undefined;
    if (username === undefined || (parts.length === 2 && password === undefined)) throw bad();
    result.username = username;
    if (password !== undefined) result.password = password;
    rest = rest.slice(at + 1);
  }
  let host = rest;
  let port: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else if (rest.includes(':')) {
    const colon = rest.lastIndexOf(':');
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
  }
  if (host === '') throw bad();
  result.host = host;
  if (port !== undefined) {
    const n = atoi(port);
    if (n < 1 || n > 65535) throw new MosqUsageError('Error: Invalid proxy port given.\n');
    result.port = n;
  }
  return result;
}

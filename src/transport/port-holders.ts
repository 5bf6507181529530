import { readdir, readFile, readlink, realpath } from 'node:fs/promises';

export interface PortHolder {
  pid: number;
  /** What a person calls the program: `atbridge bridge`, `ModemManager`, `minicom` (see {@link programName}). */
  name: string;
  cmdline: string;
}

/** Programs that run a script named by their first argument: the script is the program. */
const INTERPRETER = /^(?:node|nodejs|bun|python[\d.]*|perl|ruby|bash|sh|dash)$/;
/** A script's extension is not part of its name (`atbridge.mjs` is atbridge). */
const SCRIPT_EXT = /\.(?:mjs|cjs|js|ts|py|pl|rb|sh)$/;
/** A subcommand: a plain word (not an option, a path, a number or a setting). */
const SUBCOMMAND = /^[a-z][a-z0-9-]*$/i;

/**
 * The program a command line runs, as a person would name it: the basename of argv[0]; for an
 * interpreter, the script it runs (`node dist/bin/atbridge.mjs bridge …` is `atbridge bridge`,
 * `python3 -m serial.tools.miniterm …` is `serial.tools.miniterm`), followed by a subcommand
 * when the next argument is a plain word. `fallback` (the kernel's short name, /proc/PID/comm)
 * when the command line is empty (a kernel thread, a zombie).
 */
export function programName(argv: string[], fallback = '?'): string {
  const args = argv.filter((a) => a.length > 0);
  if (args.length === 0) return fallback;
  const base = (arg: string) => arg.slice(arg.lastIndexOf('/') + 1);
  let name = base(args[0]!);
  let next = 1;
  if (INTERPRETER.test(name)) {
    let i = 1;
    while (i < args.length && args[i]!.startsWith('-') && args[i] !== '-m' && args[i] !== '-c') i++;
    if (args[i] === '-m' && args[i + 1]) {
      name = args[i + 1]!;
      next = i + 2;
    } else if (args[i] !== undefined && args[i] !== '-c') {
      name = base(args[i]!).replace(SCRIPT_EXT, '');
      next = i + 1;
    } else next = args.length; // `sh -c '…'`: the shell itself
  }
  const sub = args[next];
  return sub !== undefined && SUBCOMMAND.test(sub) ? `${name} ${sub}` : name;
}

/**
 * Which processes hold `path` open, read from /proc (Linux only; [] elsewhere or when /proc
 * hides other users' processes). Used to name the culprit when a port is busy.
 * For a pseudo-terminal, the process that owns its master side (socat, an emulator) is the
 * other end of the line, not a competitor, so it is left out.
 */
export async function findPortHolders(path: string, exceptPid = process.pid): Promise<PortHolder[]> {
  let target: string;
  try {
    target = await realpath(path);
  } catch {
    return [];
  }
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const ptyIndex = /^\/dev\/pts\/(\d+)$/.exec(target)?.[1];
  const holders: PortHolder[] = [];
  for (const pidText of pids) {
    const pid = Number(pidText);
    if (pid === exceptPid) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    let holds = false;
    let ownsMaster = false;
    for (const fd of fds) {
      let link: string;
      try {
        link = await readlink(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target) holds = true;
      else if (ptyIndex !== undefined && link === '/dev/ptmx') {
        const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
        if (new RegExp(`^tty-index:\\s*${ptyIndex}$`, 'm').test(info)) ownsMaster = true;
      }
    }
    if (holds && !ownsMaster) {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
      holders.push({ pid, name: programName(argv, comm), cmdline: argv.join(' ').trim() });
    }
  }
  return holders;
}

export function isModemManager(holder: PortHolder): boolean {
  return /modemmanager/i.test(holder.name) || /ModemManager/.test(holder.cmdline);
}

export const MODEMMANAGER_FIX =
  'stop ModemManager probing the port: add a udev rule with ENV{ID_MM_DEVICE_IGNORE}="1" for the modem ' +
  '(see contrib/99-atbridge-modem.rules), then `sudo udevadm control --reload && sudo udevadm trigger`, ' +
  'or `sudo systemctl stop ModemManager`';

export function describeHolders(holders: PortHolder[]): string {
  return holders.map((h) => `${h.name} (pid ${h.pid})`).join(', ');
}

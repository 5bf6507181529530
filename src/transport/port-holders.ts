import { readdir, readFile, readlink, realpath } from 'node:fs/promises';

export interface PortHolder {
  pid: number;
  name: string;
  cmdline: string;
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
      const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
      holders.push({ pid, name, cmdline });
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

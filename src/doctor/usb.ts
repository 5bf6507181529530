import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** What /sys says about one tty: the USB device and interface behind it, and its driver. */
export interface TtyInfo {
  name: string;
  path: string;
  driver: string | undefined;
  vendorId: string | undefined;
  productId: string | undefined;
  /** USB interface number, two hex digits as lsusb prints it ("02"). */
  interfaceNumber: string | undefined;
  manufacturer: string | undefined;
  product: string | undefined;
  serialNumber: string | undefined;
  /** sysfs path of the USB device (siblings share it). */
  usbDevice: string | undefined;
}

export type PortRole = 'AT' | 'AT (secondary)' | 'diag' | 'GPS/NMEA' | 'audio/other' | 'modem' | 'UART bridge (likely ESP-AT)' | 'unknown';

const SIMCOM_VID = '1e0e';
/** SIM7600 1e0e:9001 interface roles (ModemManager's 77-mm-simtech-port-types.rules). */
const SIMCOM_ROLES: Record<string, PortRole> = { '00': 'diag', '01': 'GPS/NMEA', '02': 'AT', '03': 'AT (secondary)', '04': 'audio/other' };
const UART_BRIDGES = new Set(['10c4:ea60', '10c4:ea70', '1a86:7523', '1a86:55d4', '0403:6001', '0403:6010', '0403:6014', '0403:6015', '303a:1001', '067b:2303']);

const read = (path: string) => readFile(path, 'utf8').then((s) => s.trim()).catch(() => undefined);

/** Reads /sys/class/tty/NAME; undefined fields where the tty is not USB (a pty, a built-in UART). */
export async function ttyInfo(devicePath: string, sysRoot = '/sys/class/tty'): Promise<TtyInfo> {
  const real = await realpath(devicePath).catch(() => devicePath);
  const name = basename(real);
  const info: TtyInfo = { name, path: real, driver: undefined, vendorId: undefined, productId: undefined, interfaceNumber: undefined, manufacturer: undefined, product: undefined, serialNumber: undefined, usbDevice: undefined };
  const devLink = join(sysRoot, name, 'device');
  const dev = await realpath(devLink).catch(() => undefined);
  if (!dev) return info;
  info.driver = await readlink(join(devLink, 'driver')).then((d) => basename(d)).catch(() => undefined);
  // Walk up from the tty's device to the USB interface (has bInterfaceNumber) and device (has idVendor).
  for (let dir = dev; dir.startsWith('/sys/') && dir !== '/sys/devices'; dir = join(dir, '..')) {
    if (info.interfaceNumber === undefined) {
      const n = await read(join(dir, 'bInterfaceNumber'));
      if (n !== undefined) info.interfaceNumber = n;
    }
    const vid = await read(join(dir, 'idVendor'));
    if (vid !== undefined) {
      info.vendorId = vid.toLowerCase();
      info.productId = (await read(join(dir, 'idProduct')))?.toLowerCase();
      info.manufacturer = await read(join(dir, 'manufacturer'));
      info.product = await read(join(dir, 'product'));
      info.serialNumber = await read(join(dir, 'serial'));
      info.usbDevice = dir;
      break;
    }
  }
  return info;
}

export function guessRole(info: Pick<TtyInfo, 'vendorId' | 'productId' | 'interfaceNumber' | 'driver'>): PortRole {
  if (info.vendorId === SIMCOM_VID) return (info.interfaceNumber && SIMCOM_ROLES[info.interfaceNumber]) || 'modem';
  if (info.vendorId && UART_BRIDGES.has(`${info.vendorId}:${info.productId}`)) return 'UART bridge (likely ESP-AT)';
  if (info.driver && /^(?:cp210x|ch341|ftdi_sio|pl2303)$/.test(info.driver)) return 'UART bridge (likely ESP-AT)';
  if (info.driver === 'option' || info.driver === 'qcserial' || info.driver === 'cdc_acm') return 'modem';
  return 'unknown';
}

/** Ttys under /sys/class/tty that have a real device (not the virtual consoles). */
export async function listSysTtys(sysRoot = '/sys/class/tty'): Promise<TtyInfo[]> {
  const names = await readdir(sysRoot).catch(() => [] as string[]);
  const out: TtyInfo[] = [];
  for (const name of names) {
    if (!/^tty(?:USB|ACM|S|AMA|THS|SAC|mxc)\d+$/.test(name)) continue;
    const info = await ttyInfo(`/dev/${name}`, sysRoot);
    // Legacy ttyS ports without hardware behind them have no driver link worth listing.
    if (name.startsWith('ttyS') && (info.driver === undefined || info.driver === 'serial8250') && info.vendorId === undefined) {
      const port = await read(join(sysRoot, name, 'port'));
      if (port === undefined || port === '0x0') continue;
    }
    out.push(info);
  }
  return out;
}

/** The AT interface among a SIMCom modem's siblings, e.g. /dev/ttyUSB2. */
export async function simcomAtSibling(info: TtyInfo, sysRoot = '/sys/class/tty'): Promise<string | undefined> {
  if (!info.usbDevice) return undefined;
  for (const sibling of await listSysTtys(sysRoot)) {
    if (sibling.usbDevice === info.usbDevice && sibling.interfaceNumber === '02') return `/dev/${sibling.name}`;
  }
  return undefined;
}

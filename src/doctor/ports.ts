import { SerialPort } from 'serialport';
import { guessRole, listSysTtys, ttyInfo, type PortRole } from './usb.js';

export interface PortEntry {
  path: string;
  vendorId: string | null;
  productId: string | null;
  interfaceNumber: string | null;
  driver: string | null;
  manufacturer: string | null;
  product: string | null;
  serialNumber: string | null;
  role: PortRole;
}

/** Serial ports from serialport's list and /sys/class/tty, merged by path, with a role guess. */
export async function listPorts(): Promise<PortEntry[]> {
  const byPath = new Map<string, PortEntry>();
  const listed = await SerialPort.list().catch(() => []);
  for (const p of listed) {
    const info = await ttyInfo(p.path);
    const vendorId = (p.vendorId ?? info.vendorId)?.toLowerCase() ?? null;
    const productId = (p.productId ?? info.productId)?.toLowerCase() ?? null;
    byPath.set(info.path, {
      path: p.path,
      vendorId,
      productId,
      interfaceNumber: info.interfaceNumber ?? null,
      driver: info.driver ?? null,
      manufacturer: p.manufacturer ?? info.manufacturer ?? null,
      product: info.product ?? null,
      serialNumber: p.serialNumber ?? info.serialNumber ?? null,
      role: guessRole({ vendorId: vendorId ?? undefined, productId: productId ?? undefined, interfaceNumber: info.interfaceNumber, driver: info.driver }),
    });
  }
  for (const info of await listSysTtys()) {
    if (byPath.has(info.path)) continue;
    byPath.set(info.path, {
      path: info.path,
      vendorId: info.vendorId ?? null,
      productId: info.productId ?? null,
      interfaceNumber: info.interfaceNumber ?? null,
      driver: info.driver ?? null,
      manufacturer: info.manufacturer ?? null,
      product: info.product ?? null,
      serialNumber: info.serialNumber ?? null,
      role: guessRole(info),
    });
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

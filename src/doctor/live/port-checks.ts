import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { describeHolders, findPortHolders, isModemManager } from '../../transport/port-holders.js';
import { finding, type Finding } from '../findings.js';
import { guessRole, simcomAtSibling, ttyInfo } from '../usb.js';
import type { CheckReporter } from './report.js';

/** Port exists → permissions → holder → SIMCom interface role. Returns false when the port cannot be used. */
export async function checkPort(path: string, r: CheckReporter): Promise<boolean> {
  const exists = await stat(path).then(() => true, () => false);
  if (!exists) return r.fail('port', `${path} does not exist`, finding('port-missing', `${path} does not exist`, [r.evidence(`${path}: ENOENT`)]));
  r.pass('port', `${path} exists`);
  const rw = await access(path, constants.R_OK | constants.W_OK).then(() => true, () => false);
  if (!rw) return r.fail('permission', `no read/write permission on ${path}`, finding('port-permission', `permission denied on ${path}`, [r.evidence(`${path}: EACCES`)]));
  r.pass('permission', 'read/write allowed');
  const holders = await findPortHolders(path);
  if (holders.length > 0) {
    const mm = holders.some(isModemManager);
    const who = describeHolders(holders);
    const f: Finding = finding(mm ? 'modemmanager-holds-port' : 'port-busy', `${path} is held by ${who}`, [r.evidence(`holders: ${holders.map((h) => `${h.pid} ${h.cmdline || h.name}`).join('; ')}`)]);
    return r.fail('holder', `held by ${who}`, f);
  }
  r.pass('holder', 'no other process has it open');
  const info = await ttyInfo(path);
  if (info.vendorId === '1e0e') {
    const role = guessRole(info);
    if (role !== 'AT' && role !== 'AT (secondary)') {
      const right = await simcomAtSibling(info);
      return r.fail('interface', `SIMCom interface ${info.interfaceNumber ?? '?'} is the ${role} port, not AT`,
        finding('wrong-port', `${path} is the SIMCom ${role} interface (${info.interfaceNumber ?? '?'}), not the AT one`, [r.evidence(`${info.vendorId}:${info.productId} interface ${info.interfaceNumber}`)], {
          fix: `use ${right ?? 'the interface 02 port (usually /dev/ttyUSB2)'} for AT commands`,
        }));
    }
    r.pass('interface', `SIMCom ${info.vendorId}:${info.productId} interface ${info.interfaceNumber} (${role})`);
  } else if (info.vendorId) {
    r.pass('interface', `USB ${info.vendorId}:${info.productId}${info.driver ? ` (${info.driver})` : ''}: ${guessRole(info)}`);
  }
  return true;
}

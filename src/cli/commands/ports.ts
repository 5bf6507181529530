import type { Command } from 'commander';
import pc from 'picocolors';
import { listPorts } from '../../doctor/ports.js';
import { action } from '../run.js';

/** `atbridge ports [--json]`: serial ports with USB ids, interface, driver and a role guess. */
export default function register(program: Command): void {
  program
    .command('ports')
    .description('list serial ports with USB vendor:product, interface, driver and a guess of the role (AT, diag, GPS, ESP-AT bridge)')
    .option('--json', 'print a JSON array')
    .action(
      action(async (opts: { json?: boolean }) => {
        const ports = await listPorts();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
          return;
        }
        if (ports.length === 0) {
          process.stdout.write('no serial ports found\n');
          return;
        }
        for (const p of ports) {
          const usb = p.vendorId ? `${p.vendorId}:${p.productId ?? '????'}${p.interfaceNumber ? ` if${p.interfaceNumber}` : ''}` : 'not USB';
          const what = [p.manufacturer, p.product].filter(Boolean).join(' ');
          process.stdout.write(`${p.path.padEnd(16)} ${usb.padEnd(16)} ${(p.driver ?? '-').padEnd(10)} ${pc.bold(p.role)}${what ? pc.dim(`  ${what}`) : ''}\n`);
        }
      }),
    );
}

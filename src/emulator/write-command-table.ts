import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import { probeAll, renderTable, withTable } from './command-table.js';

// `npm run emulated-commands`: probes every emulated family and writes the table into README.md.

const readme = join(PACKAGE_ROOT, 'README.md');
const probes = await probeAll();
writeFileSync(readme, withTable(readFileSync(readme, 'utf8'), renderTable(probes)));
const cells = probes.reduce((n, p) => n + p.answers.size, 0);
const ok = probes.reduce((n, p) => n + [...p.answers.values()].filter((o) => o === 'ok').length, 0);
console.log(`README.md: ${probes.length} families, ${cells} commands probed, ${ok} answered`);
process.exit(0);

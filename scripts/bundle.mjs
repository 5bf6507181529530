// `npm run build` step 2: one bundled CLI entry, dist/bin/atbridge.mjs (esbuild). Chunks split off
// what pub/sub/rr load only on demand (the modem stack with --device, ws, socks, TLS).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: { atbridge: 'src/bin.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outdir: 'dist/bin',
  outExtension: { '.js': '.mjs' },
  // serialport loads a native addon found next to its own files: leave it in node_modules.
  external: ['serialport', '@serialport/*'],
  // CommonJS packages inside an ESM bundle still call require() for node: built-ins.
  banner: { js: "import { createRequire as __atbridgeRequire } from 'node:module'; const require = __atbridgeRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/bin/atbridge.mjs', 0o755);

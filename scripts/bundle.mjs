// `npm run build` step 2: one bundled CLI entry, dist/bin/atbridge.mjs (esbuild). Chunks split off
// what pub/sub/rr load only on demand (the modem stack with --device, ws, socks, TLS).
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync('dist/bin', { recursive: true, force: true });

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
  // Start-up: mqtt-packet's `debug` tracing is stubbed, and `readable-stream` (bl's) is Node's own stream.
  alias: { debug: './scripts/shims/debug.cjs', 'readable-stream': 'node:stream' },
  logLevel: 'warning',
});
chmodSync('dist/bin/atbridge.mjs', 0o755);

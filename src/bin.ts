#!/usr/bin/env node
/**
 * The `atbridge` executable (bundled by esbuild into dist/bin/atbridge.mjs). pub, sub and rr take a
 * fast path that loads only the MQTT client (the modem stack only with --device), so `sub` has
 * subscribed before a person or a script publishes; every other command loads the full CLI.
 * Called through a link named mosquitto_pub, mosquitto_sub or mosquitto_rr, it is that tool.
 */
import { basename } from 'node:path';
import { endQuietlyWhenOutputCloses } from './cli/closed-output.js';
import { runTool, TOOLS } from './mqtt/cli/mosq-main.js';

endQuietlyWhenOutputCloses();

const [, script = '', first, ...rest] = process.argv;
const self = basename(script).replace(/\.(m?js|cjs)$/, '');

if (TOOLS[self] !== undefined && self.startsWith('mosquitto_')) {
  process.exitCode = await runTool(TOOLS[self], self, process.argv.slice(2));
} else if (first !== undefined && TOOLS[first] !== undefined) {
  process.exitCode = await runTool(TOOLS[first], first.startsWith('mosquitto_') ? first : `atbridge ${first}`, rest);
} else {
  // Not bundled: the full CLI finds its commands as files next to it (dist/src/cli/commands/*.js).
  const cli = new URL('../src/cli.js', import.meta.url).href;
  await import(cli);
}

import type { Rule } from '../engine.js';
import { networkRule, registrationRule, signalRule, simRule } from './cellular.js';
import { consoleRule } from './console.js';
import { busyRule, echoRule, garbageRule, noResponseRule, rebootRule, transparentRule } from './link.js';
import { mqttRule } from './mqtt.js';
import { interleavedRule } from './interleaved.js';
import { notesRule } from './notes.js';
import { rejectedRule } from './rejected.js';
import { dataContextRule, servicesRule } from './services.js';
import { socketRule } from './socket.js';
import { wifiRule } from './wifi.js';

/** Every rule, fresh state each call. Order matters: rejectedRule runs last (it reports what no rule explained). */
export function allRules(): Rule[] {
  return [
    notesRule(), consoleRule(), noResponseRule(), garbageRule(), rebootRule(), busyRule(), echoRule(), transparentRule(), interleavedRule(),
    simRule(), signalRule(), registrationRule(), networkRule(), wifiRule(), socketRule(), mqttRule(), servicesRule(), dataContextRule(),
    rejectedRule(),
  ];
}

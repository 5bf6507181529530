/**
 * Fallback decoder for the decode-speed figure when `atbridge decode` is not built: stream the
 * capture with readTrace and frame the module's bytes with AtFramer (the two stages decode is
 * built on). Prints one JSON line with counts and this process's peak RSS.
 */
import { AtFramer } from '../src/at/framer.js';
import { getProfile } from '../src/profile/index.js';
import { readTrace } from '../src/trace/reader.js';

const file = process.argv[2];
if (!file) throw new Error('usage: decode-child FILE');
const { header, events } = await readTrace(file);
const profile = getProfile(header?.profile ?? 'sim7600');
const counts: Record<string, number> = { tx: 0, rx: 0, note: 0, line: 0, prompt: 0, block: 0, data: 0 };
const framer = new AtFramer(profile, (frame) => {
  counts[frame.kind] = (counts[frame.kind] ?? 0) + 1;
});
for await (const event of events) {
  counts[event.dir] = (counts[event.dir] ?? 0) + 1;
  if (event.dir === 'rx') framer.push(event.data);
}
framer.flush();
process.stdout.write(JSON.stringify({ counts, maxRssKb: process.resourceUsage().maxRSS }) + '\n');

// Diagnosing a captured serial log from code: the same findings as `atbridge doctor --log`,
// as typed values, so a gateway can act on them or report them.
import { diagnoseCapture } from 'atbridge/capture';
import { run } from './env.js';

run(async () => {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: diagnose-capture <log file>');
    process.exitCode = 2;
    return;
  }
  const diagnosis = await diagnoseCapture(path);
  console.log(`read ${diagnosis.events} event(s) as ${diagnosis.profile}`);
  for (const f of diagnosis.findings) {
    console.log(`${f.severity} ${f.id}: ${f.summary}`);
    if (f.fix) console.log(`  fix: ${f.fix}`);
  }
  process.exitCode = diagnosis.failed ? 1 : 0;
});

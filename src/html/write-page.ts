import { writeFile } from 'node:fs/promises';
import { AtbridgeError, ExitCode } from '../errors.js';
import { fsReason } from '../fs-reason.js';
import type { Finding } from '../doctor/findings.js';
import { pageData, type PageOptions } from './page-data.js';
import { renderPage } from './render-page.js';

/** `decode --html` and `doctor --log --html`: the capture as one self-contained page. */
export async function writeConversationPage(capture: string, out: string, options: PageOptions = {}, given?: { findings: Finding[] }): Promise<{ rows: number; findings: number; omitted: number }> {
  const data = await pageData(capture, options, given);
  try {
    await writeFile(out, renderPage(data));
  } catch (err) {
    throw new AtbridgeError('bad-option', `cannot write ${out}: ${fsReason(err)}`, { exitCode: ExitCode.usage });
  }
  return { rows: data.rows.length, findings: data.findings.length, omitted: data.omitted };
}

import pc from 'picocolors';
import type { Finding } from './findings.js';
import type { CheckResult } from './live/report.js';

const MARK: Record<CheckResult['status'], string> = { pass: pc.green('✓'), fail: pc.red('✗'), warn: pc.yellow('!'), skip: pc.dim('-') };

export function renderCheck(check: CheckResult): string {
  return `${MARK[check.status]} ${check.name.padEnd(12)} ${check.detail}\n`;
}

/** Findings as a person reads them: severity, id, summary, the evidence lines, the fix. */
export function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return `${pc.green('no problems found')}\n`;
  let out = '';
  for (const f of findings) {
    const sev = f.severity === 'error' ? pc.red('error') : f.severity === 'warning' ? pc.yellow('warning') : pc.dim('info');
    out += `${sev} ${pc.bold(f.id)}: ${f.summary}\n`;
    for (const e of f.evidence.slice(0, 5)) {
      const where = e.index >= 0 ? `#${e.index}${e.line !== undefined ? ` line ${e.line}` : ''}` : 'check';
      out += pc.dim(`    ${where.padEnd(16)} ${e.dir.padEnd(4)} ${e.text}\n`);
    }
    out += `  ${pc.dim('fix:')} ${f.fix}\n`;
  }
  return out;
}

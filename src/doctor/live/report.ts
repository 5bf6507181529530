import { forPerson, withoutRepeats, type Evidence, type Finding } from '../findings.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  finding?: string;
}

/** Collects the ordered ✓/✗ lines of a live run and the findings they raise; streams each line to `onCheck`. */
export class CheckReporter {
  readonly checks: CheckResult[] = [];
  readonly findings: Finding[] = [];
  private notes = 0;

  constructor(private readonly onCheck: (check: CheckResult) => void = () => {}) {}

  pass(name: string, detail: string): true {
    this.push({ name, status: 'pass', detail });
    return true;
  }

  warn(name: string, detail: string, f?: Finding): true {
    this.push({ name, status: 'warn', detail, ...(f ? { finding: f.id } : {}) });
    if (f) this.findings.push(f);
    return true;
  }

  fail(name: string, detail: string, f?: Finding): false {
    this.push({ name, status: 'fail', detail, ...(f ? { finding: f.id } : {}) });
    if (f) this.findings.push(f);
    return false;
  }

  skip(name: string, detail: string): void {
    this.push({ name, status: 'skip', detail });
  }

  /** Evidence for a finding that no byte on the line shows (a port check): a numbered note. */
  evidence(text: string): Evidence {
    return { index: -1 - this.notes++, dir: 'note', text: forPerson(text) };
  }

  private push(check: CheckResult): void {
    // Details quote the module: a garbled answer must not put control bytes on the terminal.
    check.detail = withoutRepeats(forPerson(check.detail));
    this.checks.push(check);
    this.onCheck(check);
  }
}

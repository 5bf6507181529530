export type RegistrationKind = 'CREG' | 'CGREG' | 'CEREG';

/** 0 = not registered, not searching; 1 = registered (home); 2 = searching (MAN §4.2.1). */
export type RegistrationStat = 0 | 1 | 2;

/** Reported cell for `<n>` = 2 (any fixed value: there is no real cell). */
const CELL = ',"1A2B","01C2D3E4"';

/**
 * Cellular registration that changes over time: not searching until the SIM is ready, then
 * searching, then registered; a loss searches again. With AT+CREG=1/2 (and CGREG, CEREG) each
 * change is also reported unsolicited, `+CREG: <stat>`, as the standard says.
 */
export class Registration {
  private stat: RegistrationStat = 0;
  private readonly reporting: Record<RegistrationKind, number> = { CREG: 0, CGREG: 0, CEREG: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly searchMs: number,
    private readonly urc: (line: string) => void,
  ) {}

  get registered(): boolean {
    return this.stat === 1;
  }

  reset(): void {
    clearTimeout(this.timer);
    this.stat = 0;
    this.reporting.CREG = this.reporting.CGREG = this.reporting.CEREG = 0;
  }

  /** The SIM is ready: search for `searchMs`, then register. */
  startSearching(): void {
    this.searchFor(this.searchMs);
  }

  /** Lost: search again for `ms` (forever when undefined), then register again. */
  lose(ms: number | undefined): void {
    this.searchFor(ms);
  }

  query(kind: RegistrationKind): string {
    const n = this.reporting[kind];
    return `+${kind}: ${n},${this.stat}${n === 2 && this.stat === 1 ? CELL : ''}`;
  }

  setReporting(kind: RegistrationKind, n: number): void {
    this.reporting[kind] = n;
  }

  private searchFor(ms: number | undefined): void {
    clearTimeout(this.timer);
    this.set(ms === 0 ? 1 : 2);
    if (ms !== undefined && ms > 0) this.timer = setTimeout(() => this.set(1), ms);
  }

  private set(stat: RegistrationStat): void {
    if (stat === this.stat) return;
    this.stat = stat;
    for (const kind of ['CREG', 'CGREG', 'CEREG'] as const) {
      const n = this.reporting[kind];
      if (n > 0) this.urc(`+${kind}: ${stat}${n === 2 && stat === 1 ? CELL : ''}`);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

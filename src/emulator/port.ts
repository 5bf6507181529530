/** The module's side of a serial line, whatever carries it (in-process wire, pty, TCP). */
export interface ModulePort {
  /** Bytes towards the host; resolves when they have left (paced at the line rate). */
  write(data: Buffer): Promise<void>;
  /** The module's own UART rate (a host at another rate reads garbage). */
  setBaud(baud: number): void;
  /** Drop output not yet sent (a reboot empties the UART FIFO). */
  clearOutput(): void;
  /** Flip bits on the line at this rate per byte, both ways (fault injection). */
  setCorruption?(rate: number): void;
  /** Pull the line out for `ms` (the pty or TCP connection goes away, then comes back); says what it did. */
  unplug?(ms: number): string;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'dtr', listener: (asserted: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

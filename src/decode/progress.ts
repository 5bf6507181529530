/**
 * A one-line progress bar on stderr for long decodes. Shown only on a terminal and only for
 * files big enough to take a while; redrawn at most 10 times a second.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  static wanted(size: number | undefined, stream: NodeJS.WriteStream = process.stderr): boolean {
    return size !== undefined && size > 4 * 1024 * 1024 && stream.isTTY === true;
  }

  update(done: number): void {
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = Math.min(1, done / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${mb(done)}/${mb(this.total)} MB`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}

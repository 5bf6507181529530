import { nowUs } from './clock.js';

/** The probe's own CPU and memory over a run (CPU as a share of one core). */
export class ResourceSampler {
  private readonly cpu = process.cpuUsage();
  private readonly startUs = nowUs();
  private peakRss = process.memoryUsage.rss();
  private peakHeap = process.memoryUsage().heapUsed;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.peakRss) this.peakRss = m.rss;
    if (m.heapUsed > this.peakHeap) this.peakHeap = m.heapUsed;
  }

  finish(): { cpuPercent: number; userCpuS: number; systemCpuS: number; peakRssMiB: number; peakHeapMiB: number } {
    this.sample();
    const used = process.cpuUsage(this.cpu);
    const wallUs = nowUs() - this.startUs;
    return {
      cpuPercent: wallUs > 0 ? ((used.user + used.system) / wallUs) * 100 : 0,
      userCpuS: used.user / 1e6,
      systemCpuS: used.system / 1e6,
      peakRssMiB: this.peakRss / 2 ** 20,
      peakHeapMiB: this.peakHeap / 2 ** 20,
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

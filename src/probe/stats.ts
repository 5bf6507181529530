/** Percentiles and histograms over delay samples (milliseconds). */

export interface Distribution {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted values (as JMeter's aggregate report: the value at ceil(p·n)). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    min: sorted[0]!,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

export interface HistogramBin {
  /** Lower edge, ms (inclusive). */
  from: number;
  /** Upper edge, ms (exclusive; the last bin includes the maximum). */
  to: number;
  count: number;
}

/** Equal-width bins from the minimum to the maximum (about √n bins, 5 to 40). */
export function histogram(values: readonly number[], bins?: number): HistogramBin[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const n = bins ?? Math.min(40, Math.max(5, Math.round(Math.sqrt(values.length))));
  const width = max > min ? (max - min) / n : 1;
  const out: HistogramBin[] = Array.from({ length: n }, (_, i) => ({ from: min + i * width, to: min + (i + 1) * width, count: 0 }));
  for (const v of values) out[Math.min(n - 1, Math.floor((v - min) / width))]!.count++;
  return out;
}

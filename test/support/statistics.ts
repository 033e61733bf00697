/** Small, dependency-free statistics for the timing tests. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export interface MannWhitneyResult {
  /** U of the first sample: how often one of its values beats one of the second's (ties count half). */
  readonly u: number;
  readonly z: number;
  /** Two-sided: the chance of a difference at least this large if both samples come from one distribution. */
  readonly p: number;
}

/**
 * Mann-Whitney U test, two-sided, with the normal approximation, the tie correction of the variance and a
 * continuity correction of 0.5 (as scipy.stats.mannwhitneyu with method="asymptotic"). Good for samples of
 * about 20 values or more each.
 */
export function mannWhitneyU(first: readonly number[], second: readonly number[]): MannWhitneyResult {
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) throw new Error('Mann-Whitney U needs two non-empty samples');
  const pooled = [
    ...first.map((value) => ({ value, fromFirst: true })),
    ...second.map((value) => ({ value, fromFirst: false })),
  ].sort((a, b) => a.value - b.value);
  const n = n1 + n2;
  let rankSumFirst = 0;
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && pooled[end + 1]?.value === pooled[start]?.value) end += 1;
    const tied = end - start + 1;
    // Ranks are 1-based; tied values share the average of the ranks they span.
    const averageRank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index += 1) {
      if (pooled[index]?.fromFirst === true) rankSumFirst += averageRank;
    }
    tieTerm += tied ** 3 - tied;
    start = end + 1;
  }
  const u = rankSumFirst - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, p: 1 };
  const distance = Math.max(0, Math.abs(u - mean) - 0.5);
  const z = (Math.sign(u - mean) * distance) / Math.sqrt(variance);
  return { u, z, p: Math.min(1, 2 * (1 - standardNormalCdf(Math.abs(z)))) };
}

/** Φ(x) through erf (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7). */
export function standardNormalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const polynomial =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - polynomial * Math.exp(-((x * x) / 2));
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

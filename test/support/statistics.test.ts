import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mannWhitneyU, median, standardNormalCdf } from './statistics.ts';

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

describe('statistics for the timing tests', () => {
  test('median of odd and even samples, unsorted input left alone', () => {
    const values = [5, 1, 3];
    assert.equal(median(values), 3);
    assert.deepEqual(values, [5, 1, 3]);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]));
  });

  test('the normal CDF matches known values', () => {
    close(standardNormalCdf(0), 0.5, 1e-7, 'Φ(0)');
    close(standardNormalCdf(1.959964), 0.975, 1e-6, 'Φ(1.96)');
    close(standardNormalCdf(-2.575829), 0.005, 1e-6, 'Φ(-2.58)');
  });

  // Reference values from scipy 1.17.1: mannwhitneyu(a, b, alternative="two-sided", method="asymptotic").
  test('U and p agree with scipy, without ties', () => {
    const result = mannWhitneyU([1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8], [3, 5, 7, 9, 11, 13, 15, 17, 19]);
    assert.equal(result.u, 12);
    close(result.p, 0.02374139453072586, 1e-6, 'p');
  });

  test('U and p agree with scipy, with ties (the variance is tie-corrected)', () => {
    const result = mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5], [2, 3, 3, 4, 4, 5, 5, 6, 7]);
    assert.equal(result.u, 17);
    close(result.p, 0.06935045438181722, 1e-6, 'p');
  });

  test('interleaved samples are not told apart; shifted ones are', () => {
    const first = Array.from({ length: 50 }, (_, index) => index);
    const interleaved = mannWhitneyU(
      first,
      first.map((value) => value + 0.5),
    );
    assert.equal(interleaved.u, 1225);
    close(interleaved.p, 0.8658764106823897, 1e-6, 'p');
    const shifted = mannWhitneyU(
      first,
      first.map((value) => value + 25),
    );
    assert.ok(shifted.p < 1e-6, `p = ${shifted.p}`);
    assert.ok(shifted.z < 0, 'the first sample is the smaller one');
  });

  test('identical samples give p = 1', () => {
    assert.equal(mannWhitneyU([3, 3, 3], [3, 3, 3]).p, 1);
  });
});

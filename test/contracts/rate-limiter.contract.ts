import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { RateLimitDecision, RateLimiter } from '../../src/flows/ports.ts';
import { describeContract } from './describe-contract.ts';

export interface RateLimiterBudget {
  readonly keyPrefix: string;
  readonly points: number;
  readonly durationSeconds: number;
}

export interface RateLimiterStoreUnderTest {
  /** Builds a limiter on this store as one more service instance would (its own client, the same store). */
  createLimiter(budget: RateLimiterBudget): RateLimiter;
  close(): Promise<void>;
}

const allowed: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

/** The RateLimiter port's rules; every adapter runs them. Each test gets a fresh store. */
export function describeRateLimiterContract(
  adapterName: string,
  createStore: () => Promise<RateLimiterStoreUnderTest>,
  /**
   * True for a shared store (Redis): then several instances must share one budget. A per-process store
   * (memory) serves embedded mode, which runs a single instance, so that rule does not apply to it.
   */
  options: { sharedAcrossInstances: boolean },
): void {
  describeContract(`RateLimiter contract: ${adapterName}`, createStore, 'test', (underTest) => {
    async function consumeInTurn(
      limiter: RateLimiter,
      key: string,
      times: number,
    ): Promise<RateLimitDecision[]> {
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < times; i++) decisions.push(await limiter.consume(key));
      return decisions;
    }

    test('a budget of N allows exactly N, then refuses with a retry-after of at least one second', async () => {
      const limiter = underTest().createLimiter({ keyPrefix: 'login', points: 3, durationSeconds: 60 });

      const decisions = await consumeInTurn(limiter, 'user@example.test', 5);

      assert.deepEqual(decisions.slice(0, 3), [allowed, allowed, allowed]);
      for (const refused of decisions.slice(3)) {
        assert.equal(refused.allowed, false);
        assert.ok(refused.retryAfterSeconds >= 1, `retryAfterSeconds ${refused.retryAfterSeconds} < 1`);
        assert.ok(refused.retryAfterSeconds <= 60, `retryAfterSeconds ${refused.retryAfterSeconds} > 60`);
        assert.ok(Number.isInteger(refused.retryAfterSeconds));
      }
    });

    test('keys have independent budgets', async () => {
      const limiter = underTest().createLimiter({ keyPrefix: 'login', points: 2, durationSeconds: 60 });
      await consumeInTurn(limiter, 'spent@example.test', 3);

      assert.deepEqual(await limiter.consume('other@example.test'), allowed);
    });

    test('limiters with different key prefixes keep separate budgets for the same key', async () => {
      const login = underTest().createLimiter({ keyPrefix: 'login', points: 1, durationSeconds: 60 });
      const passwordReset = underTest().createLimiter({
        keyPrefix: 'password-reset',
        points: 1,
        durationSeconds: 60,
      });
      await consumeInTurn(login, 'user@example.test', 2);

      assert.deepEqual(await passwordReset.consume('user@example.test'), allowed);
    });

    test('the budget comes back once the window has passed', async () => {
      const limiter = underTest().createLimiter({ keyPrefix: 'login', points: 2, durationSeconds: 1 });
      await consumeInTurn(limiter, 'user@example.test', 2);
      const refused = await limiter.consume('user@example.test');
      assert.equal(refused.allowed, false);

      await sleep(refused.retryAfterSeconds * 1000 + 150);

      assert.deepEqual(await limiter.consume('user@example.test'), allowed);
    });

    test('of 50 concurrent requests on one key with a budget of 10, exactly 10 are allowed', async () => {
      const limiter = underTest().createLimiter({ keyPrefix: 'login', points: 10, durationSeconds: 60 });

      const decisions = await Promise.all(
        Array.from({ length: 50 }, () => limiter.consume('user@example.test')),
      );

      assert.equal(decisions.filter((decision) => decision.allowed).length, 10);
    });

    const sharedTest = options.sharedAcrossInstances ? test : () => {};
    sharedTest('two limiter instances on the same store share one budget', async () => {
      const budget = { keyPrefix: 'login', points: 4, durationSeconds: 60 };
      const firstInstance = underTest().createLimiter(budget);
      const secondInstance = underTest().createLimiter(budget);

      const decisions = await Promise.all([
        ...Array.from({ length: 5 }, () => firstInstance.consume('user@example.test')),
        ...Array.from({ length: 5 }, () => secondInstance.consume('user@example.test')),
      ]);

      assert.equal(decisions.filter((decision) => decision.allowed).length, 4);
      assert.equal((await firstInstance.consume('user@example.test')).allowed, false);
      assert.equal((await secondInstance.consume('user@example.test')).allowed, false);
    });
  });
}

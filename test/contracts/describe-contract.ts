import { after, afterEach, before, beforeEach, describe } from 'node:test';

/**
 * Describes a contract's rules over a fixture factory. The fixture is opened before the suite (`suite`: one
 * for every rule, for fixtures that take seconds to create, such as a database) or before each rule (`test`:
 * a fresh one each) and closed after; the rules reach the open one through `fixture()`.
 */
export function describeContract<Fixture extends { close(): Promise<void> }>(
  title: string,
  createFixture: () => Promise<Fixture>,
  scope: 'suite' | 'test',
  rules: (fixture: () => Fixture) => void,
): void {
  const [setUp, tearDown] = scope === 'suite' ? [before, after] : [beforeEach, afterEach];
  describe(title, () => {
    let opened: Fixture | undefined;

    setUp(async () => {
      opened = await createFixture();
    });

    tearDown(async () => {
      await opened?.close();
      opened = undefined;
    });

    rules(() => {
      if (opened === undefined) throw new Error(`${title}: the fixture is not open`);
      return opened;
    });
  });
}

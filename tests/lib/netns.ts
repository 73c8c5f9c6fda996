// The test side of the network lab (agent/src/demo/lab.ts, shared with `vpsfw demo`): a lab tied
// to a tap test is destroyed in the test's teardown, pass or fail.
import { makeLab, type Lab } from '../../agent/src/demo/lab.js';

export { makeLab, type Lab, type Peer } from '../../agent/src/demo/lab.js';

export async function labFor(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const lab = await makeLab();
  t.teardown(() => lab.destroy());
  return lab;
}

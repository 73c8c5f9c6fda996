// Interface names by index: read from the system's directory, read again on a miss at most once a second.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemInterfaceNames } from '../../../agent/src/daemon/interfaces.js';

t.test('names by index; a new interface is found on the next miss after a second', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-net-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const iface = (name: string, index: number) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'ifindex'), `${index}\n`);
  };
  iface('lo', 1);
  iface('eth0', 2);
  let now = 0;
  const names = systemInterfaceNames(() => now, dir);
  t.equal(names(2), 'eth0');
  t.equal(names(0), undefined, 'no index, no name');
  iface('wg0', 7);
  t.equal(names(7), undefined, 'within the second: not read again');
  now = 1500;
  t.equal(names(7), 'wg0', 'read again on the next miss');
  t.equal(names(1), 'lo');
});

// Policies no checker may crash on, written as files: nested 10,000 and 100,000 levels deep, and a
// 20 MB value. Each names the field it must be reported at and the short value it must show; the
// unit tests (load, the isolated loader, check, render) and the end-to-end one (`vpsfw check`,
// `render`, `run`) use the same files.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BadPolicy {
  name: string;
  file: string;
  /** The line `vpsfw check` prints for it, whole. */
  line: RegExp;
}

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

export function writeBadPolicies(dir: string): BadPolicy[] {
  const cases = [
    {
      name: 'nested 10,000 deep',
      text: `{"version":1,"rules":[{"name":"a","action":"accept","protocol":"tcp","ports":${deepArray(10_000)}}]}`,
      line: /^rules\.0\.ports\.0: .* \(got \[\["…"\]\]\)$/,
    },
    {
      name: 'nested 100,000 deep',
      text: `{"version":1,"denyNetworks":${deepArray(100_000)}}`,
      line: /^denyNetworks\.0: Invalid input: expected string, received array \(got \[\["…"\]\]\)$/,
    },
    {
      name: 'a 20 MB value',
      text: JSON.stringify({ version: 1, rules: [{ name: 'n'.repeat(20 << 20), action: 'accept' }] }),
      line: /^rules\.0\.name: Too big: expected string to have <=64 characters \(got "n{60}… \(20971520 characters\)"\)$/,
    },
  ];
  return cases.map((c, i) => {
    const file = join(dir, `bad-${i}.json`);
    writeFileSync(file, c.text);
    return { name: c.name, file, line: c.line };
  });
}

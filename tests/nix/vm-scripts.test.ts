// The VM tests' Python scripts, checked as nixpkgs' driver checks them before it runs one: mypy
// (strict optional) over the driver's typed globals, a `name: Machine` line per node, then the
// script; and pyflakes with those names as builtins. The types are our stub of the driver's API
// (nix/tests/driver/). A script that fails here fails `nix flake check` for every user.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const TESTS = join(REPO, 'nix/tests');
const DRIVER = join(TESTS, 'driver');
const has = (cmd: string, args: string[]) => spawnSync(cmd, args).status === 0;
const missing = ['mypy', 'pyflakes3', 'nix-instantiate'].filter((cmd) => !has(cmd, ['--version']));

/** The driver's globals the prepended file declares, for pyflakes. */
const driverNames = [...readFileSync(join(DRIVER, 'prepend.py'), 'utf8').matchAll(/^(\w+): /gm)].map((m) => m[1]!);

t.test('the VM test scripts type-check and lint as the driver checks them', { skip: missing.length ? `not installed: ${missing.join(', ')} (scripts/setup.sh installs them)` : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-vm-scripts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  /** mypy as the driver runs it, over what it prepends and the script; the exit status and output. */
  const typeCheck = (name: string, nodes: string[], script: string) => {
    const file = join(dir, name);
    writeFileSync(file, [readFileSync(join(DRIVER, 'prepend.py'), 'utf8'), ...nodes.map((n) => `${n}: Machine`), script].join('\n'));
    return spawnSync('mypy', ['--no-implicit-optional', '--pretty', '--no-color-output', '--cache-dir', join(dir, '.mypy'), file], { encoding: 'utf8', env: { ...process.env, MYPYPATH: DRIVER } });
  };

  const scenarios = readdirSync(TESTS).filter((f) => /^vm-.*\.nix$/.test(f));
  t.ok(scenarios.length > 0, 'there are VM scenarios');
  for (const file of scenarios) {
    // Node names and the script, from the scenario itself (its top level needs no nixpkgs).
    const expr = `let t = import ${join(TESTS, file)} { lib = throw "no lib"; }; in { nodes = builtins.attrNames t.nodes; script = t.testScript; }`;
    const { nodes, script } = JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { encoding: 'utf8' })) as { nodes: string[]; script: string };
    const py = file.replace(/\.nix$/, '.py');
    t.equal(script, readFileSync(join(TESTS, py), 'utf8'), `${file} runs ${py} as it is`);
    const mypy = typeCheck(py, nodes, script);
    t.equal(mypy.status, 0, `${py}: mypy\n${mypy.stdout}${mypy.stderr}`);
    const lint = spawnSync('pyflakes3', [join(TESTS, py)], { encoding: 'utf8', env: { ...process.env, PYFLAKES_BUILTINS: [...nodes, ...driverNames].join(',') } });
    t.equal(lint.status, 0, `${py}: pyflakes\n${lint.stdout}${lint.stderr}`);
  }

  // The check can fail: what `nix flake check` refused before (a None match used as a match).
  const bad = typeCheck('bad.py', ['server'], 'import re\nverdict = server.succeed("systemd-analyze security x")\nscore = float(re.search(r"x: ([0-9.]+)", verdict).group(1))\n');
  t.not(bad.status, 0, 'a possibly-None match is refused');
  t.match(bad.stdout, /Item "None" of\s+"Optional\[Match\[str\]\]" has no attribute "group"/);
});

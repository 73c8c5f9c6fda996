// `vpsfw top` in a real terminal (tmux, on a tmux server of this test's own): it draws the live
// view, shows a ban made while it runs, and quits on q with status 0, the terminal given back.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VPSFW_BIN } from '../../agent/src/demo/agent-process.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';
import { waitFor } from '../lib/wait.js';

const run = promisify(execFile);

t.test('vpsfw top under tmux: a ban made during the run, then q', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  const socket = `vpsfw-test-${process.pid}`;
  const tmux = async (...args: string[]) => (await run('tmux', ['-L', socket, ...args], { timeout: 10_000 })).stdout;
  // The shell that runs top says how it ended and stays, its screen to be read: tmux itself, in the
  // minimal root of the system test, at times never reaped a multi-threaded program it ran directly
  // (Node: a zombie, its pane dead without a status), and a dead pane's screen is cleared.
  const command = `${['ip', 'netns', 'exec', lab.server, process.execPath, VPSFW_BIN, 'top', '--control', agent.controlPath].join(' ')}; echo "top ended with status $?"; exec sleep 600`;
  await tmux('new-session', '-d', '-s', 'top', '-x', '150', '-y', '45', command);
  t.teardown(() => tmux('kill-server').catch(() => undefined));
  const screen = () => tmux('capture-pane', '-p', '-t', 'top');

  const first = await waitFor('the live view', 20_000, async () => ((await screen()).includes('accept/s') ? screen() : undefined));
  t.match(first, /recent bans[^\n]*\n\s+none/, 'no ban yet');

  // 2000 SYNs, 0.5 ms apart (as tests/e2e/agent-detectors.test.ts): the flooder is banned.
  await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u500', '-c', '2000', lab.attacker.server4], { timeoutMs: 20_000 });
  const banned = await waitFor('the ban on screen', 20_000, async () => {
    const s = await screen();
    return new RegExp(`recent bans[\\s\\S]*${lab.attacker.ip4.replace(/\./g, '\\.')}\\s+\\d+m\\d\\ds\\s+detector:synFlood`).test(s) ? s : undefined;
  });
  t.pass('the ban is on screen, with its time left and its decider');
  t.match(banned, new RegExp(`sources refused most[\\s\\S]*${lab.attacker.ip4.replace(/\./g, '\\.')}\\s+\\d+`), 'the flooder among the sources refused most');
  t.match(banned, /^bans\s+\S*\s+1 in force$/m, 'one ban in force');

  await tmux('send-keys', '-t', 'top', 'q');
  const status = await waitFor('top to quit', 20_000, async () => /top ended with status (\d+)/.exec(await screen())?.[1]);
  t.equal(status, '0', 'q quits, exit status 0');
  t.notMatch(await screen(), /accept\/s/, 'the alternate screen is left: the terminal is as it was');
});

t.test('vpsfw top when stdout is not a terminal: plain lines, one per ban', async (t) => {
  const { agent } = await agentLab(t, testPolicy());
  await agent.cli(['ban', '192.0.2.77', '--for', '10m', '--reason', 'test']);
  const r = await agent.cli(['top', '--count', '2']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^\S+Z accept\/s=– drop\/s=– reject\/s=– bans=1 /, 'a reading, no rate yet');
  t.match(lines[1], /^ban 192\.0\.2\.77 by control until \S+: test$/, 'the ban, once');
  t.match(lines[2], /^\S+Z accept\/s=0 drop\/s=0 reject\/s=0 bans=1 /, 'the second reading, with rates');
  t.equal(lines.length, 3, 'nothing escapes: no terminal codes, no repeat of the ban');
  t.notMatch(r.stdout, /\x1b/);
});

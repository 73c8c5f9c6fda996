// vpsfw's sshd log source side by side with fail2ban (Debian's package, its stock sshd filter and
// jail, the same maxretry and findtime) on the same log file, each enforcing in its own lab
// (fail2ban's banaction runs inside its lab's namespace, so it touches nothing else). One run:
//   1. time from the failure that crosses the limit to the first dropped packet (a ping every 5 ms
//      from the guessing address; rounds, each from a new address);
//   2. CPU seconds (user + system, own and reaped children: ipset, iptables) spent while a busy
//      server's 10-minute log is replayed into the file at 10× speed, stamped as it is written.
// Needs root, a build (npm run build), fail2ban and python3-pyinotify (scripts/setup.sh).
// Usage: node tests/bench/logsources.js [--rounds 3] [--speed 10] [--no-doc] [--no-replay] [--keep]
//   --keep: leave the work directory (the log, fail2ban's configuration and log) for a look
// Writes tests/bench/results/<date>T<hhmm>-logsources.json and its section of docs/benchmarks.md.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { makeLab } from '../../agent/dist/demo/lab.js';
import { startAgent } from '../../agent/dist/demo/agent-process.js';
import { loadavg, median } from './measure.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, speed: { type: 'string', default: '10' }, 'no-doc': { type: 'boolean', default: false }, 'no-replay': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });
const rounds = Number(opt.rounds);
const speed = Number(opt.speed);
if (!(rounds >= 1 && rounds <= 9) || !(speed >= 1 && speed <= 60)) throw new Error('--rounds in 1..9, --speed in 1..60');

const MAXRETRY = 5;
const FINDTIME_S = 600;
const REPLAY_S = 600;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'vpsfw-bench-logs-'));
const log = join(work, 'auth.log');
writeFileSync(log, '');

/** rsyslog's RFC 3339 line, as Debian 12 writes /var/log/auth.log; fail2ban's default date patterns read it. */
const line = (msg, pid = 4242) => `${new Date().toISOString().replace('Z', '+00:00')} vps sshd[${pid}]: ${msg}\n`;

/** CPU seconds of a process: own, and its reaped children's (the kernel commands it ran). */
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const hz = 100;
  return { own: (Number(f[11]) + Number(f[12])) / hz, children: (Number(f[13]) + Number(f[14])) / hz };
}

async function startFail2ban(lab) {
  const conf = join(work, 'fail2ban');
  cpSync('/etc/fail2ban', conf, { recursive: true });
  rmSync(join(conf, 'jail.d'), { recursive: true, force: true });
  writeFileSync(join(conf, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${join(work, 'fail2ban.log')}\nsocket = ${join(work, 'f2b.sock')}\npidfile = ${join(work, 'f2b.pid')}\ndbfile = ${join(work, 'f2b.sqlite3')}\n`);
  writeFileSync(
    join(conf, 'jail.local'),
    `[DEFAULT]\nbantime = 3600\nfindtime = ${FINDTIME_S}\nmaxretry = ${MAXRETRY}\nbanaction = iptables-allports\nbanaction_allports = iptables-allports\nprotocol = all\nignoreip = 127.0.0.1/8 ::1\n\n[sshd]\nenabled = true\nbackend = pyinotify\nlogpath = ${log}\n`,
  );
  const child = lab.spawn(lab.server, 'fail2ban-server', ['-f', '-x', '-c', conf, '-s', join(work, 'f2b.sock'), '-p', join(work, 'f2b.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  for (let i = 0; i < 200; i++) {
    const r = await lab.status(lab.server, 'fail2ban-client', ['-s', join(work, 'f2b.sock'), 'status', 'sshd']);
    if (r.code === 0) return { child, pid: Number(readFileSync(join(work, 'f2b.pid'), 'utf8')), status: async () => (await lab.status(lab.server, 'fail2ban-client', ['-s', join(work, 'f2b.sock'), 'status', 'sshd'])).stdout };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`fail2ban did not start: ${stderr}`);
}

/** Pings `host` from `local` every 5 ms; resolves with the epoch ms of each answered echo. */
function pinger(lab, host, local) {
  const c = lab.spawn(lab.attacker.ns, 'ping', ['-n', '-D', '-i', '0.005', '-W', '1', '-w', '30', '-I', local, host], { stdio: ['ignore', 'pipe', 'ignore'] });
  const answered = [];
  let buf = '';
  c.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(buf.slice(0, nl));
      if (m) answered.push(Number(m[1]) * 1000);
      buf = buf.slice(nl + 1);
    }
  });
  return { answered, stop: () => c.kill('SIGINT') };
}

async function timeToDrop(labs, n) {
  const out = {};
  const pingers = {};
  const sources = {};
  for (const [name, lab] of Object.entries(labs)) {
    sources[name] = (await lab.attackerAlias(n)).ip4;
    pingers[name] = pinger(lab, lab.attacker.server4, sources[name]);
  }
  const src = sources.vpsfw;
  await sleep(1500);
  for (let i = 1; i < MAXRETRY; i++) appendFileSync(log, line(`Failed password for root from ${src} port ${40000 + i} ssh2`, 5000 + i));
  await sleep(3000); // both have read and counted these
  const t0 = Date.now();
  appendFileSync(log, line(`Failed password for root from ${src} port ${40000 + MAXRETRY} ssh2`, 5000 + MAXRETRY));
  await sleep(5000);
  for (const [name, p] of Object.entries(pingers)) {
    p.stop();
    const before = p.answered.filter((t) => t >= t0 - 1000);
    const last = before.at(-1);
    // The first echo not answered was sent one interval after the last answered one.
    out[name] = last === undefined || Date.now() - last < 500 ? null : Math.max(0, last + 5 - t0);
  }
  return out;
}

/** A busy server's 10 minutes: brute force from many addresses, real users logging in and out, noise. */
function busyLog() {
  const lines = [];
  // mulberry32: the same log every run.
  let seed = 42;
  const r = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return (((x ^ (x >>> 14)) >>> 0) % n);
  };
  const guesser = (i) => `198.18.${(i >> 8) & 255}.${i & 255}`;
  const users = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'git', 'postgres', 'user'];
  // A process per connection, as sshd forks: pids are not reused within the 10 minutes.
  let nextPid = 10000;
  for (let s = 0; s < REPLAY_S; s++) {
    const second = [];
    for (let k = 0; k < 20; k++) {
      const ip = guesser(r(1500));
      const port = 1024 + r(60000);
      const u = users[r(users.length)];
      const pid = nextPid++;
      if (r(3) === 0) second.push([`Invalid user ${u} from ${ip} port ${port}`, pid], [`Failed password for invalid user ${u} from ${ip} port ${port} ssh2`, pid], [`Connection closed by invalid user ${u} ${ip} port ${port} [preauth]`, pid]);
      else second.push([`Failed password for ${u} from ${ip} port ${port} ssh2`, pid], [`Connection closed by authenticating user ${u} ${ip} port ${port} [preauth]`, pid]);
    }
    for (let k = 0; k < 2; k++) {
      const ip = `198.19.${r(4)}.${1 + r(200)}`;
      const port = 1024 + r(60000);
      const pid = nextPid++;
      second.push([`Accepted publickey for deploy from ${ip} port ${port} ssh2: ED25519 SHA256:q1w2e3r4t5y6u7i8o9p0`, pid], [`pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)`, pid], [`Received disconnect from ${ip} port ${port}:11: disconnected by user`, pid], [`Disconnected from user deploy ${ip} port ${port}`, pid], [`pam_unix(sshd:session): session closed for user deploy`, pid]);
    }
    lines.push(second);
  }
  return lines;
}

async function replay(labs, procs, vpsfwAgent, f2b) {
  const seconds = busyLog();
  const total = seconds.reduce((n, s) => n + s.length, 0);
  const before = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpu(pid)]));
  const started = Date.now();
  for (let s = 0; s < seconds.length; s++) {
    const due = started + (s * 1000) / speed;
    if (due > Date.now()) await sleep(due - Date.now());
    appendFileSync(log, seconds[s].map(([m, pid]) => line(m, pid)).join(''));
  }
  const wrote = Date.now();
  // Until both have caught up: vpsfw's count of records read, fail2ban's "Total failed" still.
  const vpsfwRecords = async () => {
    const r = await vpsfwAgent.cli(['status', '--json']);
    return JSON.parse(r.stdout).logSources?.[0]?.records ?? 0;
  };
  const f2bFailed = async () => Number(/Total failed:\s+(\d+)/.exec(await f2b.status())?.[1] ?? 0);
  let last = -1;
  let stillSince = Date.now();
  let f2bCaughtUp = null;
  let vpsfwCaughtUp = null;
  const limit = Date.now() + 300_000;
  while (Date.now() < limit) {
    const [v, f] = [await vpsfwRecords(), await f2bFailed()];
    if (vpsfwCaughtUp === null && v >= total + MAXRETRY * rounds) vpsfwCaughtUp = Date.now();
    if (f !== last) {
      last = f;
      stillSince = Date.now();
    } else if (Date.now() - stillSince > 5000 && f2bCaughtUp === null) f2bCaughtUp = stillSince;
    if (vpsfwCaughtUp !== null && f2bCaughtUp !== null) break;
    await sleep(200);
  }
  const after = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpu(pid)]));
  const bans = {
    vpsfw: JSON.parse((await vpsfwAgent.cli(['status', '--json'])).stdout).logSources?.[0]?.bans ?? null,
    fail2ban: Number(/Total banned:\s+(\d+)/.exec(await f2b.status())?.[1] ?? NaN),
  };
  const d = (k) => ({ own: +(after[k].own - before[k].own).toFixed(2), children: +(after[k].children - before[k].children).toFixed(2) });
  return {
    lines: total,
    writeSeconds: +((wrote - started) / 1000).toFixed(1),
    caughtUpSecondsAfterLastWrite: { vpsfw: vpsfwCaughtUp && +((vpsfwCaughtUp - wrote) / 1000).toFixed(1), fail2ban: f2bCaughtUp && +((f2bCaughtUp - wrote) / 1000).toFixed(1) },
    cpuSeconds: { vpsfw: d('vpsfw'), fail2ban: d('fail2ban') },
    bans,
  };
}

function section(r) {
  const ms = (x) => (x === null ? 'not dropped' : `${Math.round(x)} ms`);
  const rows = r.timeToDrop.map((x, i) => `| ${i + 1} | ${ms(x.vpsfw)} | ${ms(x.fail2ban)} |`).join('\n');
  const med = (k) => ms(median(r.timeToDrop.map((x) => x[k]).filter((x) => x !== null)) ?? null);
  const c = r.replay.cpuSeconds;
  return `<!-- logsources:begin (generated by tests/bench/logsources.js) -->
### Run of ${r.date} at ${r.commit}

${r.host}; load average before: ${r.loadavg}. Same log file, maxretry ${MAXRETRY}, findtime ${FINDTIME_S}s;
vpsfw ${r.versions.vpsfw} (file source, the agent's kernel sets), fail2ban ${r.versions.fail2ban}
(stock sshd filter, mode normal, backend pyinotify, banaction iptables-allports with
\`protocol = all\`: every packet of a banned address refused, as a vpsfw ban drops them all).

**From the failure that crosses the limit to the first dropped packet** (a ping every 5 ms from
the guessing address; the first echo not answered):

| round | vpsfw | fail2ban |
|---|---|---|
${rows}
| median | ${med('vpsfw')} | ${med('fail2ban')} |

**CPU while a busy server's 10-minute log is replayed** (${r.replay.lines} lines: ${REPLAY_S} s of
brute force from 1,500 addresses and logins, written in ${r.replay.writeSeconds} s at ${speed}× speed,
each batch stamped as written):

| | vpsfw agent | fail2ban-server |
|---|---|---|
| CPU seconds, the process | ${c.vpsfw.own} | ${c.fail2ban.own} |
| CPU seconds, the commands it ran (ipset, iptables) | ${c.vpsfw.children} | ${c.fail2ban.children} |
| everything read, seconds after the last line was written (checked every 0.2 s, plus a status call) | ${r.replay.caughtUpSecondsAfterLastWrite.vpsfw ?? 'no'} | ${r.replay.caughtUpSecondsAfterLastWrite.fail2ban ?? 'no'} |
| bans made | ${r.replay.bans.vpsfw} | ${r.replay.bans.fail2ban} |
<!-- logsources:end -->`;
}

const labs = {};
const cleanup = [];
try {
  labs.vpsfw = await makeLab();
  labs.fail2ban = await makeLab();
  cleanup.push(() => labs.vpsfw.destroy(), () => labs.fail2ban.destroy());
  const agent = await startAgent({
    ns: labs.vpsfw.server,
    policy: { version: 1, rules: [{ name: 'ping', action: 'accept', protocol: 'icmp' }], detectors: { icmpFlood: { enabled: false } }, logSources: [{ name: 'sshd', kind: 'sshd', file: log, maxRetry: MAXRETRY, findTime: `${FINDTIME_S}s`, ban: '1h' }] },
  });
  cleanup.unshift(() => agent.stop());
  const f2b = await startFail2ban(labs.fail2ban);
  cleanup.unshift(async () => {
    f2b.child.kill('SIGTERM');
    await sleep(1000);
  });
  await agent.waitFor((e) => e.event === 'log-source' && e.state === 'opened', 10_000, 'the log source');
  const drops = [];
  for (let i = 0; i < rounds; i++) drops.push(await timeToDrop(labs, 1 + i));
  const replayed = opt['no-replay'] ? null : await replay(labs, { vpsfw: agent.child.pid, fail2ban: f2b.pid }, agent, f2b);
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim() + (execFileSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' }).trim() ? '+dirty' : '');
  const now = new Date();
  const result = {
    date: now.toISOString().slice(0, 16).replace('T', ' '),
    commit,
    host: `${readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'cpu'}, ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores`,
    loadavg: loadavg(),
    versions: { vpsfw: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version, fail2ban: execFileSync('fail2ban-server', ['-V'], { encoding: 'utf8' }).trim() },
    timeToDrop: drops,
    replay: replayed,
  };
  const file = join(root, 'tests/bench/results', `${now.toISOString().slice(0, 10)}T${now.toISOString().slice(11, 16).replace(':', '')}-logsources.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (!opt['no-doc'] && replayed) {
    const doc = join(root, 'docs/benchmarks.md');
    const text = readFileSync(doc, 'utf8');
    const re = /<!-- logsources:begin[\s\S]*?<!-- logsources:end -->/;
    if (!re.test(text)) throw new Error('docs/benchmarks.md has no logsources section markers');
    writeFileSync(doc, text.replace(re, section(result)));
  }
} finally {
  for (const f of cleanup) await f().catch(() => undefined);
  if (existsSync(work) && !opt.keep) rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`kept ${work}\n`);
}

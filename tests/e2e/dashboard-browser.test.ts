// The dashboard in headless Chromium (Debian's, driven by playwright-core, started in the lab's
// server namespace with the flags that keep it off the network and a fresh profile): refused
// without its token; with it, the charts draw the flood's drops (the agent's, then the kernel's of
// the banned flooder) and the flooder's ban appears in the list, all without reloading the page;
// the CrowdSec panel only with a `crowdsec` section, saying how the LAPI is doing. A screenshot is
// kept in tests/artefacts/.
import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Lab } from '../../agent/src/demo/lab.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

const ARTEFACTS = new URL('../artefacts/', import.meta.url).pathname;
/** Chromium's background services would try the network at every start (node.md, "Known to work"). */
const OFFLINE = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Chromium in the lab's server namespace, where the listener is (its loopback), with a profile of its own. */
async function browserIn(t: Test, lab: Lab) {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-chromium-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.server} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: wrapper, headless: true, args: OFFLINE, viewport: { width: 1280, height: 1100 } });
  t.teardown(() => browser.close());
  return { dir, page: browser.pages()[0] ?? (await browser.newPage()) };
}

t.test('the dashboard: refused without the token; with it, live charts and a ban that appears without a reload', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy(), ['--http', '127.0.0.1:9469']);
  const printed = await agent.cli(['dashboard']);
  t.equal(printed.code, 0, printed.stderr);
  const url = printed.stdout.trim();
  t.match(url, /^http:\/\/127\.0\.0\.1:9469\/\?token=[A-Za-z0-9_-]{43}$/, '`vpsfw dashboard` prints the address with the token');
  const { page } = await browserIn(t, lab);

  const bare = await page.goto('http://127.0.0.1:9469/');
  t.equal(bare?.status(), 401, 'no token: 401');
  const wrong = await page.goto(url.replace(/token=.*/, 'token=not-the-token'));
  t.equal(wrong?.status(), 401, 'a wrong token: 401');
  const data = await page.goto('http://127.0.0.1:9469/api/status');
  t.equal(data?.status(), 401, 'nor its data');

  const ok = await page.goto(url);
  t.equal(ok?.status(), 200, 'with the token: the page');
  await page.waitForFunction(() => Number(document.querySelector('#chart-verdicts')?.getAttribute('data-points')) >= 2, null, { timeout: 30_000 });
  t.match(await page.locator('#agent').textContent(), /policy [0-9a-f]{16}/, 'the agent and its policy hash');
  t.match(await page.locator('#policy').textContent(), /web: accept inbound tcp local 8080,80/, 'the policy summary');
  t.match(await page.locator('#policy').textContent(), /modeenforce/, 'the mode: enforcing');
  t.equal(await page.locator('#crowdsec-panel').isHidden(), true, 'no crowdsec section: no CrowdSec panel');
  await page.evaluate(() => ((window as unknown as { before: boolean }).before = true));

  // 2000 SYNs, 0.5 ms apart (as tests/e2e/agent-detectors.test.ts): banned within the first second.
  await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u500', '-c', '2000', lab.attacker.server4], { timeoutMs: 20_000 });
  const banRow = page.locator('#bans tbody tr', { hasText: lab.attacker.ip4 });
  await banRow.waitFor({ timeout: 30_000 });
  t.match(await banRow.textContent(), /detector:synFlood/, 'the ban appears in the list, by the SYN-flood detector');
  t.match(await banRow.locator('td').nth(1).textContent(), /^\d+ min \d+ s$/, 'with its time left');
  await page.waitForFunction(() => Number(document.querySelector('#chart-verdicts')?.getAttribute('data-max-drop')) > 0, null, { timeout: 30_000 });
  await page.waitForFunction(() => Number(document.querySelector('#chart-bans')?.getAttribute('data-max-ipv4')) >= 1, null, { timeout: 30_000 });
  // The rest of the flood, after the ban, dies in the kernel: its counters, plotted beside the agent's verdicts.
  await page.waitForFunction(() => Number(document.querySelector('#chart-verdicts')?.getAttribute('data-max-banned')) > 0, null, { timeout: 30_000 });
  t.pass("the kernel's drops of the banned flooder are plotted");
  const drawn = await page.evaluate(() => ['verdicts', 'bans', 'queue'].map((c) => Number(document.querySelector(`#chart-${c}`)?.getAttribute('data-drawn'))));
  t.ok(drawn.every((n) => n >= 2), `every chart drew its data points (${drawn.join(', ')})`);
  t.equal(await page.locator('#chart-verdicts canvas').count(), 1, 'on a canvas');
  await page.locator('#events li', { hasText: `ban ${lab.attacker.ip4}` }).first().waitFor({ timeout: 15_000 });
  t.pass('the ban event is listed');
  t.equal(await page.evaluate(() => (window as unknown as { before?: boolean }).before), true, 'all in the same page: no reload');

  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTEFACTS, 'dashboard.png'), fullPage: true });
});

t.test('the CrowdSec panel: the LAPI, and how following its decisions goes', async (t) => {
  // A LAPI address nothing in the lab routes to: the bouncer is unreachable from the start.
  const keyDir = mkdtempSync(join(tmpdir(), 'vpsfw-cs-key-'));
  t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = join(keyDir, 'bouncer.key');
  writeFileSync(keyFile, 'not-a-real-key\n', { mode: 0o600 });
  const { lab, agent } = await agentLab(t, testPolicy({ crowdsec: { url: 'http://198.18.0.1:8080/', bouncerKeyFile: keyFile, pollInterval: '1s' } }), ['--http', '127.0.0.1:9469']);
  await agent.waitFor((e) => e.event === 'crowdsec-unreachable', 30_000, 'the first failed pull');
  const url = (await agent.cli(['dashboard'])).stdout.trim();
  const { page } = await browserIn(t, lab);
  t.equal((await page.goto(url))?.status(), 200);
  await page.locator('#crowdsec-panel').waitFor({ state: 'visible', timeout: 30_000 });
  const text = await page.locator('#crowdsec').textContent();
  t.match(text, /LAPIhttp:\/\/198\.18\.0\.1:8080\//, 'the LAPI');
  t.match(text, /decisionsunreachable: 0 banned, 0 lifted, 0 ignored, [1-9]\d* failed pulls/, 'the bouncer unreachable, its failed pulls counted');
  t.match(text, /alertsbans not reported/, 'no machine configured');
});

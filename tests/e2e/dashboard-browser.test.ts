// The dashboard in headless Chromium (Debian's, driven by playwright-core, started in the lab's
// server namespace with the flags that keep it off the network and a fresh profile): refused
// without its token; with it, the charts draw the flood's drops (the agent's, then the kernel's of
// the banned flooder) and the flooder's ban appears in the list, all without reloading the page.
// A screenshot is kept in tests/artefacts/.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

const ARTEFACTS = new URL('../artefacts/', import.meta.url).pathname;
/** Chromium's background services would try the network at every start (node.md, "Known to work"). */
const OFFLINE = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

t.test('the dashboard: refused without the token; with it, live charts and a ban that appears without a reload', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy(), ['--http', '127.0.0.1:9469']);
  const printed = await agent.cli(['dashboard']);
  t.equal(printed.code, 0, printed.stderr);
  const url = printed.stdout.trim();
  t.match(url, /^http:\/\/127\.0\.0\.1:9469\/\?token=[A-Za-z0-9_-]{43}$/, '`vpsfw dashboard` prints the address with the token');

  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-chromium-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Chromium itself, in the server namespace, where the listener is (its loopback).
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.server} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: wrapper, headless: true, args: OFFLINE, viewport: { width: 1280, height: 1100 } });
  t.teardown(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());

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

// Prometheus' load on the agent for the agent-http row: GET /metrics with the token once a second,
// for at most SECONDS. Prints "ready" once the first scrape answered, then after each scrape the
// number of scrapes so far that answered 200.
// Usage: node scraper.js URL TOKEN_FILE SECONDS
import { readFileSync } from 'node:fs';

const [url, tokenFile, seconds] = process.argv.slice(2);
const token = readFileSync(tokenFile, 'utf8').trim();
const end = Date.now() + Number(seconds) * 1000;
let ok = 0;
while (Date.now() < end) {
  const started = Date.now();
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
  if (r?.status === 200) {
    await r.text();
    if (ok++ === 0) process.stdout.write('ready\n');
    process.stdout.write(`${ok}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
}

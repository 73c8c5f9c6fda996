// HTTP requests from inside a lab namespace (the agent's listener and a test's Prometheus listen
// on that namespace's loopback): Node's fetch, run there.
import type { Lab } from './netns.js';

const SCRIPT = `const [url, headers] = process.argv.slice(1);
fetch(url, { headers: JSON.parse(headers) })
  .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), body: await r.text() })))
  .catch((e) => { process.stderr.write(String(e.cause ?? e)); process.exit(1); });`;

export interface NsResponse {
  status: number;
  type: string | null;
  body: string;
}

export async function nsGet(lab: Lab, ns: string, url: string, headers: Record<string, string> = {}): Promise<NsResponse> {
  const r = await lab.exec(ns, process.execPath, ['-e', SCRIPT, url, JSON.stringify(headers)], { timeoutMs: 15_000 });
  return JSON.parse(r.stdout) as NsResponse;
}

// The agent's HTTP side, loaded only when the listener is on (prom-client, node:http and the
// dashboard's files stay out of an agent without it): GET /metrics, the dashboard at / and the
// data it reads, all from the status snapshot (the policy summary in it), the ban list and the
// events bus.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BanEntry } from '../bans/store.js';
import { loadAssets, page } from '../dashboard/assets.js';
import type { AgentStatus, HttpStatus } from '../daemon/status.js';
import type { EventBus } from '../events/bus.js';
import { Exposition } from '../metrics/exposition.js';
import type { Cidr } from '../policy/units.js';
import { formatListen, localHost, peerMatcher, urlOf, type Listen } from './listen.js';
import { RecentEvents } from './recent-events.js';
import { VpsfwError } from '../errors.js';
import { closeListener, probeListener, startListener, type Reply, type Route } from './server.js';
import { loadToken } from './token.js';

export interface AgentHttpDeps {
  listen: Listen;
  allowFrom: readonly Cidr[];
  tokenFile: string;
  status: () => Promise<AgentStatus>;
  bans: () => BanEntry[];
  events: EventBus;
  onError: (err: unknown, path: string) => void;
}

export interface AgentHttp {
  status: HttpStatus;
  close(): Promise<void>;
}

/** Bans the dashboard gets at most per read: the newest. */
export const MAX_BANS_SHOWN = 1000;

const json = (value: unknown): Reply => ({ type: 'application/json; charset=utf-8', body: JSON.stringify(value) });

/** A whole number from the query, within bounds, else the default. */
function param(url: URL, name: string, fallback: number, max: number): number {
  const n = Number(url.searchParams.get(name) ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
}

export async function startAgentHttp(d: AgentHttpDeps): Promise<AgentHttp> {
  const token = await loadToken(d.tokenFile);
  const exposition = new Exposition();
  const assets = loadAssets();
  const recent = new RecentEvents(d.events);
  const routes: Record<string, Route> = {
    '/metrics': async (req) => exposition.render(await d.status(), req.headers.accept),
    '/': () => page(token),
    ...Object.fromEntries(Object.entries(assets).map(([path, asset]) => [path, () => asset])),
    '/api/status': async () => json(await d.status()),
    '/api/bans': (_req, url) => {
      const all = d.bans().sort((a, b) => b.since - a.since);
      return json({ now: Date.now(), total: all.length, bans: all.slice(0, param(url, 'limit', 100, MAX_BANS_SHOWN)) });
    },
    '/api/events': (_req, url) => json(recent.since(param(url, 'after', 0, Number.MAX_SAFE_INTEGER), param(url, 'limit', 100, 500))),
  };
  let server: Server;
  try {
    server = await startListener({ listen: d.listen, allowFrom: d.allowFrom, token, routes, onError: d.onError });
  } catch (err) {
    recent.close();
    throw err;
  }
  // Port 0 (the tests') is the port the kernel picked.
  const bound = { ...d.listen, port: (server.address() as AddressInfo).port };
  // This host's own connection comes from the address it connects to: worth trying only where
  // that address may connect.
  const own = localHost(bound);
  if (peerMatcher(d.allowFrom)(own)) {
    const why = await probeListener(own, bound.port);
    if (why) d.onError(new VpsfwError('VPSFW_ERR_HTTP', `this host cannot connect to the listener at ${urlOf(bound)} (${why}): under systemd the unit must allow its clients (IPAddressAllow; after changing http in the policy, run the installer again: docs/observability.md)`), 'self-check');
  }
  return {
    status: { listen: formatListen(bound), url: urlOf(bound), tokenFile: d.tokenFile },
    close: async () => {
      recent.close();
      await closeListener(server);
    },
  };
}

// Where the HTTP listener listens and who may connect: parsed here for the policy (`http.listen`,
// `http.allowFrom`), `vpsfw run --http`, the systemd units (IPAddressAllow) and the listener itself.
// Pure: no socket is opened here.
import { isIPv4, isIPv6 } from 'node:net';
import { allowlistMatcher } from '../bans/allowlist.js';
import { parseTarget } from '../bans/target.js';
import { canonicalAddress } from '../packet/address.js';
import { formatCidr, type Cidr } from '../policy/units.js';

export interface Listen {
  host: string;
  port: number;
  family: 4 | 6;
}

/** The networks that may connect when the policy names none: this host only. */
export const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'] as const;

/** "127.0.0.1:9469" or "[::1]:9469"; an address, never a host name (nothing is resolved). */
export function parseListen(text: string): Listen | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  const family = m[1] !== undefined ? (isIPv6(host) ? 6 : 0) : isIPv4(host) ? 4 : 0;
  if (family === 0 || port < 1 || port > 65535) return null;
  return { host, port, family };
}

export function formatListen(l: Listen): string {
  return l.family === 6 ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

/** 127.0.0.0/8 or ::1 (an IPv4-mapped loopback address too: a dual-stack socket's peers look so). */
export function isLoopbackAddress(address: string): boolean {
  const plain = peerAddress(address);
  if (isIPv4(plain)) return plain.startsWith('127.');
  return isIPv6(plain) && canonicalAddress(plain) === '::1';
}

/** A socket's peer as the policy writes it: a dual-stack socket gives IPv4 peers as ::ffff:a.b.c.d. */
export function peerAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Whether a peer (as a socket gives it) is inside one of `allowFrom`. */
export function peerMatcher(allowFrom: readonly Cidr[]): (address: string) => boolean {
  const within = allowlistMatcher(allowFrom);
  return (address) => {
    const t = parseTarget(peerAddress(address));
    return t !== null && within(t)?.kind === 'within';
  };
}

/** A network that holds loopback addresses only. */
export function isLoopbackNetwork(c: Cidr): boolean {
  return c.family === 4 ? c.prefix >= 8 && isLoopbackAddress(c.address) : c.prefix === 128 && isLoopbackAddress(c.address);
}

/**
 * Why this listener is refused, or null. A listener beyond loopback serves the dashboard and the
 * metrics to the network over plain HTTP, behind the token alone: only when the policy says who
 * may connect (`http.allowFrom` naming a network beyond this host).
 */
export function listenRefusal(l: Listen, allowFrom: readonly Cidr[]): string | null {
  if (isLoopbackAddress(l.host) || allowFrom.some((c) => !isLoopbackNetwork(c))) return null;
  return 'a listener beyond loopback needs http.allowFrom to name the networks that may connect (docs/observability.md, Risks)';
}

/** The address this host reaches the listener at: an unspecified address means every one, loopback included. */
export function localHost(l: Listen): string {
  return l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
}

/** The address a browser on this host opens. */
export function urlOf(l: Listen): string {
  return `http://${formatListen({ ...l, host: localHost(l) })}/`;
}

/**
 * The unit's IPAddressAllow= for this listener: the networks its clients come from. systemd's
 * filter looks at the peer's address (the source of what arrives, the destination of what
 * leaves), so the list is the clients' networks, not the listener's address.
 */
export function unitIpAllow(allowFrom: readonly Cidr[]): string[] {
  return allowFrom.map(formatCidr);
}

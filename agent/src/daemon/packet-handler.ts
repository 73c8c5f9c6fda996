// The per-packet path: decode, judge, carry out the verdict's side effects, count. It never
// throws: an unexpected error becomes the malformed-packet verdict, so the queue always gets an
// answer. The observer is its sibling for what the kernel refused and only showed us (NFLOG).
import type { Engine } from '../engine/engine.js';
import type { DropSources } from './drop-sources.js';
import { describeBy, type Verdict } from '../engine/verdict.js';
import type { EventBus } from '../events/bus.js';
import type { LogLimiter } from '../log/limiter.js';
import type { PcapWriter } from '../log/pcap.js';
import { decode } from '../packet/decode.js';
import { formatMalformed, formatPacket } from '../packet/format.js';
import type { Packet } from '../packet/types.js';
import type { ConnectionKiller } from '../queue/connection-killer.js';
import type { LoggedPacket, QueuedPacket, QueueVerdict } from '../queue/types.js';

export interface PacketHandlerDeps {
  engine: () => Engine;
  events: EventBus;
  limiter: LogLimiter;
  now: () => number;
  /** Debug mode: one line per packet. */
  debug?: ((line: string) => void) | undefined;
  pcap?: PcapWriter | undefined;
  /** Log every judged packet (policy logging.packets). */
  logPackets: () => boolean;
  onBan: (packet: Packet, verdict: Verdict) => void;
  /** Kills a connection at both ends (payload rules with action reject on TCP). */
  killer: ConnectionKiller;
  /** Audit mode: every packet goes on, each decision is logged as would-drop / would-reject. */
  audit: () => boolean;
  onError: (err: unknown) => void;
  /** Counts refused packets per source, judged or observed (`vpsfw top`, the dashboard). */
  dropSources: DropSources;
}

export function makePacketHandler(d: PacketHandlerDeps): (p: QueuedPacket) => QueueVerdict {
  return (q) => {
    let verdict: Verdict;
    let packet: Packet | null = null;
    const engine = d.engine();
    try {
      const r = decode(q.payload);
      if (typeof r === 'string') {
        verdict = engine.judgeMalformed(r);
      } else {
        packet = r;
        verdict = engine.judge(packet, { direction: q.direction, established: q.established, ifindex: q.ifindex });
      }
    } catch (err) {
      d.events.emit({ event: 'internal-error', level: 'error', msg: 'packet path error', err });
      verdict = engine.judgeMalformed('internal-error');
    }
    if (d.pcap) d.pcap.writePacket(q.payload, Date.now());
    if (d.debug) d.debug(`${packet ? formatPacket(packet) : formatMalformed(q.payload, verdict.by.name)} => ${verdict.action} by ${describeBy(verdict.by)}`);
    if (verdict.ban && packet) d.onBan(packet, verdict);
    if (verdict.action !== 'accept' && packet) d.dropSources.count(packet);
    const audit = d.audit();
    if (verdict.action !== 'accept' || verdict.log || d.logPackets()) logVerdict(d, q.direction, q.payload.length, packet, verdict, audit);
    if (audit) return verdict.done ? 'done' : 'accept';
    if (verdict.kill && packet) return kill(d, packet, q.direction);
    return verdict.done ? 'done' : verdict.action;
  };
}

/** Both ends are reset, so neither waits on a connection that will never carry data again; the segment itself is dropped. */
function kill(d: PacketHandlerDeps, p: Packet, direction: 'inbound' | 'outbound'): QueueVerdict {
  try {
    d.killer.kill(p, direction);
  } catch (err) {
    d.onError(err);
  }
  return 'drop';
}

/** For packets the static rules refused in the kernel: the detectors count them, no verdict goes back. */
export function makeObserver(d: PacketHandlerDeps): (p: LoggedPacket) => void {
  return (l) => {
    try {
      const r = decode(l.payload, true);
      if (typeof r === 'string') return;
      const verdict = d.engine().observe(r, { direction: l.direction, ifindex: l.ifindex });
      if (d.debug) d.debug(`${formatPacket(r)} => ${verdict.action} in the kernel, seen by ${describeBy(verdict.by)}`);
      if (verdict.ban) d.onBan(r, verdict);
      if (verdict.action !== 'accept') d.dropSources.count(r);
      logVerdict(d, l.direction, r.length, r, verdict, d.audit());
    } catch (err) {
      d.events.emit({ event: 'internal-error', level: 'error', msg: 'observer error', err });
    }
  };
}

function logVerdict(d: PacketHandlerDeps, direction: 'inbound' | 'outbound', len: number, p: Packet | null, v: Verdict, audit: boolean): void {
  const suppressed = d.limiter.take(d.now());
  if (suppressed < 0) return;
  const l4 = p?.l4;
  const by = describeBy(v.by);
  const event = audit && v.action !== 'accept' ? `would-${v.action}` : v.action;
  d.events.emit({
    event,
    level: 'info',
    msg: `${event} ${by}`,
    by,
    reason: v.reason,
    direction,
    family: p?.family,
    src: p?.src,
    dst: p?.dst,
    proto: l4?.kind ?? p?.protocol,
    sport: l4 && 'srcPort' in l4 ? l4.srcPort : undefined,
    dport: l4 && 'dstPort' in l4 ? l4.dstPort : undefined,
    len,
    suppressed,
  });
}

// The per-packet path: decode, judge, carry out the verdict's side effects, count. It never
// throws: an unexpected error becomes the malformed-packet verdict, so the queue always gets an answer.
import type { BanStore } from '../bans/store.js';
import type { Engine } from '../engine/engine.js';
import type { DropSources } from './drop-sources.js';
import { describeBy, type Verdict } from '../engine/verdict.js';
import type { Logger } from '../log/logger.js';
import type { LogLimiter } from '../log/limiter.js';
import type { PcapWriter } from '../log/pcap.js';
import { decode } from '../packet/decode.js';
import { formatMalformed, formatPacket } from '../packet/format.js';
import type { Packet } from '../packet/types.js';
import type { QueuedPacket, QueueVerdict } from '../queue/types.js';

export interface PacketHandlerDeps {
  engine: () => Engine;
  bans: BanStore;
  log: Logger;
  limiter: LogLimiter;
  now: () => number;
  /** Debug mode: one line per packet. */
  debug?: ((line: string) => void) | undefined;
  pcap?: PcapWriter | undefined;
  /** Log every judged packet (policy logging.packets). */
  logPackets: () => boolean;
  onBan: (address: string, verdict: Verdict) => void;
  /** Counts refused packets per source (`vpsfw top`). */
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
        verdict = engine.judge(packet, { direction: q.direction, established: q.established });
      }
    } catch (err) {
      d.log.error({ event: 'internal-error', err }, 'packet path error');
      verdict = engine.judgeMalformed('internal-error');
    }
    if (d.pcap) d.pcap.writePacket(q.payload, Date.now());
    if (d.debug) d.debug(`${packet ? formatPacket(packet) : formatMalformed(q.payload, verdict.by.name)} => ${verdict.action} by ${describeBy(verdict.by)}`);
    if (verdict.ban && packet) d.onBan(packet.src, verdict);
    if (verdict.action !== 'accept' && packet) d.dropSources.count(packet);
    if (verdict.action !== 'accept' || verdict.log || d.logPackets()) logVerdict(d, q, packet, verdict);
    return verdict.action;
  };
}

function logVerdict(d: PacketHandlerDeps, q: QueuedPacket, p: Packet | null, v: Verdict): void {
  const suppressed = d.limiter.take(d.now());
  if (suppressed < 0) return;
  const l4 = p?.l4;
  d.log.info(
    {
      event: v.action === 'accept' ? 'accept' : v.action,
      by: describeBy(v.by),
      reason: v.reason,
      direction: q.direction,
      family: p?.family,
      src: p?.src,
      dst: p?.dst,
      proto: l4?.kind ?? p?.protocol,
      sport: l4 && 'srcPort' in l4 ? l4.srcPort : undefined,
      dport: l4 && 'dstPort' in l4 ? l4.dstPort : undefined,
      len: q.payload.length,
      ...(suppressed > 0 ? { suppressed } : {}),
    },
    `${v.action} ${describeBy(v.by)}`,
  );
}

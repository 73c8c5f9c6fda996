// Kills a TCP connection at both ends (a payload rule with action reject): the kernel aborts this
// host's socket (SOCK_DESTROY), which resets the remote peer from that socket and fails the
// application's next read or write (ECONNABORTED). Where the kernel cannot (no such socket here,
// or a kernel without CONFIG_INET_DIAG_DESTROY), the agent sends the two resets itself through
// its raw sender. SOCK_DESTROY comes first because a unit with IPAddressDeny= filters every packet
// of the agent's own sockets, raw ones included.
import { constants } from 'node:os';
import { VpsfwError } from '../errors.js';
import { resetsFor } from '../packet/reset.js';
import { DST_OFFSET, SRC_OFFSET, type Packet } from '../packet/types.js';
import { loadNativeBinding, type NativeBinding } from './native-binding.js';
import type { RawSender } from './raw-sender.js';

export interface ConnectionKiller {
  /** `direction`: the offending packet's. Throws a VpsfwError when neither way worked. */
  kill(p: Packet, direction: 'inbound' | 'outbound'): void;
}

const LENGTH = { 4: 4, 6: 16 } as const;

export function connectionKiller(rawSender: () => RawSender, load: () => Pick<NativeBinding, 'destroySocket'> = loadNativeBinding): ConnectionKiller {
  return {
    kill(p, direction) {
      const l4 = p.l4;
      if (l4?.kind !== 'tcp') return;
      const n = LENGTH[p.family];
      const src = p.buf.subarray(SRC_OFFSET[p.family], SRC_OFFSET[p.family] + n);
      const dst = p.buf.subarray(DST_OFFSET[p.family], DST_OFFSET[p.family] + n);
      // This host's end: the destination of what comes in, the source of what goes out.
      const [local, localPort, remote, remotePort] = direction === 'inbound' ? [dst, l4.dstPort, src, l4.srcPort] : [src, l4.srcPort, dst, l4.dstPort];
      let why: unknown;
      try {
        load().destroySocket(p.family, Buffer.from(local), localPort, Buffer.from(remote), remotePort);
        return;
      } catch (err) {
        why = err;
      }
      const r = resetsFor(p);
      if (r === null) return;
      try {
        const sender = rawSender();
        sender.send(r.toSender);
        sender.send(r.toReceiver);
      } catch (err) {
        const destroy = (why as { errno?: number }).errno === constants.errno.ENOENT ? 'no such socket on this host' : (why as Error).message;
        throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot kill the connection ${p.src} ↔ ${p.dst}: SOCK_DESTROY: ${destroy}; resets: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

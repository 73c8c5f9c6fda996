// NativeRawSender without the kernel: a fake addon. The sockets get OWN_MARK, packets go through
// unchanged, and the addon's errors become VPSFW_ERR_QUEUE with its text kept.
import t from 'tap';
import { OWN_MARK } from '../../../agent/src/kernel/names.js';
import type { NativeBinding, NativeRawSenderOptions } from '../../../agent/src/queue/native-binding.js';
import { NativeRawSender } from '../../../agent/src/queue/raw-sender.js';

function fakeBinding(sendError?: Error) {
  const state: { opts?: NativeRawSenderOptions; sent: Buffer[]; closed: number } = { sent: [], closed: 0 };
  const binding: Pick<NativeBinding, 'RawSender'> = {
    RawSender: class {
      constructor(opts: NativeRawSenderOptions) {
        state.opts = opts;
      }
      send(packet: Buffer) {
        if (sendError) throw sendError;
        state.sent.push(packet);
      }
      close() {
        state.closed++;
      }
    },
  };
  return { binding, state };
}

t.test('NativeRawSender: OWN_MARK on its sockets, packets passed through, close closes', async (t) => {
  const { binding, state } = fakeBinding();
  const s = new NativeRawSender(() => binding);
  t.same(state.opts, { mark: OWN_MARK });
  const packet = Buffer.from([0x45, 0, 0, 40]);
  s.send(packet);
  t.equal(state.sent[0], packet, 'the same buffer, not a copy');
  s.close();
  t.equal(state.closed, 1);
});

t.test('NativeRawSender: sockets that cannot open, and a send the kernel refuses, are VPSFW_ERR_QUEUE', async (t) => {
  const refusing: Pick<NativeBinding, 'RawSender'> = {
    RawSender: class {
      constructor() {
        throw new Error('socket(AF_INET, SOCK_RAW, IPPROTO_RAW): Operation not permitted');
      }
    } as unknown as NativeBinding['RawSender'],
  };
  t.throws(() => new NativeRawSender(() => refusing), { code: 'VPSFW_ERR_QUEUE', message: 'cannot open the raw sockets for resets: socket(AF_INET, SOCK_RAW, IPPROTO_RAW): Operation not permitted' });
  const { binding } = fakeBinding(new Error('sendto (IPv6): Network is unreachable'));
  t.throws(() => new NativeRawSender(() => binding).send(Buffer.alloc(60, 0x60)), { code: 'VPSFW_ERR_QUEUE', message: 'cannot send a raw packet of 60 bytes: sendto (IPv6): Network is unreachable' });
});

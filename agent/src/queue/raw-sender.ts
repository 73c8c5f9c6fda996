// Sends whole IP packets the agent built itself (agent/src/packet/reset.ts: the resets that kill
// a connection) through raw sockets whose packets carry OWN_MARK, so the agent's own rules let
// them by instead of judging them.
import { VpsfwError } from '../errors.js';
import { OWN_MARK } from '../kernel/names.js';
import { loadNativeBinding, type NativeBinding, type NativeRawSenderHandle } from './native-binding.js';

export interface RawSender {
  /** Sends one IPv4 or IPv6 packet, headers included, to the destination its header names. */
  send(packet: Buffer): void;
  close(): void;
}

/** The addon's raw sockets (needs CAP_NET_RAW, and CAP_NET_ADMIN for the mark on older kernels). */
export class NativeRawSender implements RawSender {
  readonly #handle: NativeRawSenderHandle;

  constructor(load: () => Pick<NativeBinding, 'RawSender'> = loadNativeBinding) {
    const { RawSender } = load();
    try {
      this.#handle = new RawSender({ mark: OWN_MARK });
    } catch (err) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot open the raw sockets for resets: ${(err as Error).message}`, { cause: err });
    }
  }

  send(packet: Buffer): void {
    try {
      this.#handle.send(packet);
    } catch (err) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot send a raw packet of ${packet.length} bytes: ${(err as Error).message}`, { cause: err });
    }
  }

  close(): void {
    this.#handle.close();
  }
}

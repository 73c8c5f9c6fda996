// A pcap writer for debug mode: classic libpcap format with LINKTYPE_RAW, so the IPv4 and IPv6
// packets from the queue are written as they are and tcpdump/Wireshark open the file.
import { createWriteStream } from 'node:fs';

const LINKTYPE_RAW = 101;
const SNAPLEN = 65535;

export interface PcapSink {
  write(chunk: Buffer): void;
}

export class PcapWriter {
  readonly #sink: PcapSink;

  constructor(sink: PcapSink) {
    this.#sink = sink;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_RAW, 20);
    sink.write(h);
  }

  writePacket(buf: Buffer, timestampMs: number): void {
    const caplen = Math.min(buf.length, SNAPLEN);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(timestampMs / 1000), 0);
    h.writeUInt32LE(Math.floor((timestampMs % 1000) * 1000), 4);
    h.writeUInt32LE(caplen, 8);
    h.writeUInt32LE(buf.length, 12);
    this.#sink.write(h);
    // A copy: the queue may reuse the packet's memory before the stream writes it.
    this.#sink.write(Buffer.from(buf.subarray(0, caplen)));
  }
}

export function openPcapFile(path: string): PcapWriter & { close(): Promise<void> } {
  const stream = createWriteStream(path, { mode: 0o600 });
  const writer = new PcapWriter({ write: (c) => void stream.write(c) }) as PcapWriter & { close(): Promise<void> };
  writer.close = () => new Promise<void>((resolve) => stream.end(resolve));
  return writer;
}

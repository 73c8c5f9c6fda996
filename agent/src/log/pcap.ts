// A pcap writer for debug mode: classic libpcap format with LINKTYPE_RAW, so the IPv4 and IPv6
// packets from the queue are written as they are and tcpdump/Wireshark open the file.
import { createWriteStream } from 'node:fs';

const MAGIC = 0xa1b2c3d4;
const LINKTYPE_RAW = 101;
const SNAPLEN = 65535;
/** Past this much unwritten data (a flood outrunning the disk) packets are counted, not queued. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export interface PcapSink {
  write(chunk: Buffer): void;
}

export class PcapWriter {
  readonly #sink: PcapSink;

  constructor(sink: PcapSink) {
    this.#sink = sink;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(MAGIC, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    // Bytes 8..15: timezone offset and timestamp accuracy, both 0 as every writer does.
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_RAW, 20);
    sink.write(h);
  }

  /** One record per call, in one chunk, so a sink that drops chunks never tears a record. */
  writePacket(buf: Buffer, timestampMs: number): void {
    const caplen = Math.min(buf.length, SNAPLEN);
    const ms = Math.max(0, timestampMs);
    const seconds = Math.floor(ms / 1000);
    // A copy: the queue may reuse the packet's memory before the stream writes it.
    const r = Buffer.allocUnsafe(16 + caplen);
    r.writeUInt32LE(seconds % 2 ** 32, 0);
    r.writeUInt32LE(Math.min(999_999, Math.floor((ms - seconds * 1000) * 1000)), 4);
    r.writeUInt32LE(caplen, 8);
    r.writeUInt32LE(buf.length, 12);
    buf.copy(r, 16, 0, caplen);
    this.#sink.write(r);
  }
}

export interface PcapFile extends PcapWriter {
  /** Records not written: the file failed, or the disk fell too far behind. */
  readonly dropped: number;
  /** Flushes and closes; never rejects (the error, if any, went to onError). */
  close(): Promise<void>;
}

/**
 * Opens (truncates) `path`, mode 0600 since packets carry payloads. A file error never throws
 * into the packet path: it goes to `onError` once (a process warning by default) and later
 * records are dropped.
 */
export function openPcapFile(path: string, onError: (err: Error) => void = (err) => process.emitWarning(err)): PcapFile {
  const stream = createWriteStream(path, { mode: 0o600 });
  let failed = false;
  let dropped = 0;
  stream.on('error', (err) => {
    if (failed) return;
    failed = true;
    onError(err);
  });
  const writer = new PcapWriter({
    write(chunk) {
      if (failed || stream.writableLength > MAX_BUFFERED) dropped++;
      else stream.write(chunk);
    },
  });
  return Object.defineProperties(writer as PcapFile, {
    dropped: { get: () => dropped },
    close: {
      value: () =>
        new Promise<void>((resolve) => {
          if (failed || stream.destroyed) return resolve();
          stream.once('close', resolve);
          stream.end();
        }),
    },
  });
}

// Addresses between text and bytes. As text, straight from the packet bytes: dotted IPv4, and IPv6 exactly as glibc's
// inet_ntop prints it, which is what `ip`, ipset and tcpdump show (RFC 5952: lowercase, `::` for
// the longest run of two or more zero groups, the first on a tie; IPv4-mapped ::ffff:a.b.c.d and
// IPv4-compatible ::a.b.c.d in mixed notation). Hand-rolled: no arrays per packet.

import { isIPv4 } from 'node:net';

export function ipv4At(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

export function ipv6At(b: Buffer, o: number): string {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (b[o + 2 * i] === 0 && b[o + 2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else runStart = -1;
  }
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && b.readUInt16BE(o + 10) === 0xffff))) {
    return `${bestLen === 5 ? '::ffff:' : '::'}${ipv4At(b, o + 12)}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += b.readUInt16BE(o + 2 * i).toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

/** Address text → bytes (text already validated, e.g. by the schema or net.isIP). */
export function addressBytes(address: string, family: 4 | 6): Buffer {
  if (family === 4 && isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  let h = parse(head);
  let t = parse(tail);
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two groups.
  const last = (address.includes('::') ? t : h).at(-1);
  if (last && last.includes('.')) {
    const v4 = last.split('.').map(Number);
    const groups = [((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16)];
    if (address.includes('::')) t = [...t.slice(0, -1), ...groups];
    else h = [...h.slice(0, -1), ...groups];
  }
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}


/** The form packets give: `2001:DB8::1` typed by hand must name the same ban as the packet's `2001:db8::1`. */
export function canonicalAddress(address: string): string {
  return isIPv4(address) ? ipv4At(addressBytes(address, 4), 0) : ipv6At(addressBytes(address, 6), 0);
}

// Addresses as text, straight from the packet bytes: dotted IPv4, and IPv6 exactly as glibc's
// inet_ntop prints it, which is what `ip`, ipset and tcpdump show (RFC 5952: lowercase, `::` for
// the longest run of two or more zero groups, the first on a tie; IPv4-mapped ::ffff:a.b.c.d and
// IPv4-compatible ::a.b.c.d in mixed notation). Hand-rolled: no arrays per packet.

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

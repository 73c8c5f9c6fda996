// Addresses as text, straight from the packet bytes: dotted IPv4, and IPv6 in the RFC 5952 form
// that `ip`, ipset and Node's net module print (lowercase, `::` for the longest run of zeros).

export function ipv4At(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

export function ipv6At(b: Buffer, o: number): string {
  // The longest run of two or more zero groups (the first, on a tie) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (b.readUInt16BE(o + 2 * i) === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else runStart = -1;
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

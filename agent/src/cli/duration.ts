// Durations for people, as the CLI prints them ("1h 12m", "3d 4h", "45s"): the two largest units,
// the rest dropped (a ban's time left, an uptime). Policy durations are written by policy/units.ts.
const UNITS = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const;

export function humanDuration(ms: number): string {
  let left = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, seconds] of UNITS) {
    if (parts.length === 2) break;
    const n = Math.floor(left / seconds);
    left -= n * seconds;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
  }
  // "1h 0m" says no more than "1h".
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ') || '0s';
}

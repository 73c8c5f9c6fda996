// What `vpsfw top` shows, made from the status snapshots it has read: pure (no terminal, no
// clock), so the tests check it line by line. Rates are differences of the counters between two
// readings; the sparklines hold the last SAMPLES of them.
import type { AgentStatus } from '../daemon/status.js';

export const SAMPLES = 60;
const BARS = '▁▂▃▄▅▆▇█';

export interface Sample {
  at: number;
  s: AgentStatus;
}

interface Row {
  label: string;
  /** One value per reading, or null where there is none (a first reading has no rate). */
  values: Array<number | null>;
  unit: string;
}

/** Rates (per second) of a counter over consecutive readings; null for a first reading, or where the counter restarted (the kernel's, at a reload). */
function rates(samples: readonly Sample[], pick: (s: AgentStatus) => number): Array<number | null> {
  return samples.map((x, i) => {
    const prev = samples[i - 1];
    const now = pick(x.s);
    const then = prev && pick(prev.s);
    if (!prev || then === undefined || now < then) return null;
    return (now - then) / Math.max(0.001, (x.at - prev.at) / 1000);
  });
}

export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown.map((v) => v ?? 0));
  return shown.map((v) => (v === null ? ' ' : max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))])).join('').padStart(width);
}

const number = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10));

function left(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function rows(samples: readonly Sample[]): Row[] {
  return [
    { label: 'accept/s', values: rates(samples, (s) => s.verdicts.accept), unit: '' },
    { label: 'drop/s', values: rates(samples, (s) => s.verdicts.drop), unit: '' },
    { label: 'reject/s', values: rates(samples, (s) => s.verdicts.reject), unit: '' },
    { label: 'bans', values: samples.map((x) => x.s.bans.active), unit: ' in force' },
    { label: 'bans/s', values: rates(samples, (x) => x.bans.made.reduce((a, m) => a + m.count, 0)), unit: '' },
    // Packets of banned sources: dropped by the kernel before the agent sees them.
    { label: 'banned/s', values: rates(samples, (s) => s.kernel.counters.banned + s.kernel.counters.bannedNetworks), unit: '' },
    { label: 'queue/s', values: rates(samples, (s) => s.queue.received), unit: ' judged' },
    { label: 'unjudged/s', values: rates(samples, (s) => s.queue.unjudged), unit: '' },
  ];
}

/** The screen for a terminal `width` columns wide (`now`: the clock the bans' time left counts from). */
export function topScreen(samples: readonly Sample[], width: number, now: number): string[] {
  const last = samples.at(-1);
  if (!last) return ['vpsfw top: waiting for the agent…'];
  const s = last.s;
  const spark = Math.max(10, Math.min(SAMPLES, width - 30));
  const out = [
    `vpsfw ${s.version}${s.mode === 'audit' ? '  AUDIT (nothing enforced)' : ''}  pid ${s.pid}  up ${left(s.uptimeSeconds * 1000)}  policy ${s.policy.hash}  ${(s.memory.rss / 1048576).toFixed(1)} MiB  loop p99 ${s.eventLoopDelayMs.p99} ms   (q quits)`,
    '',
    ...rows(samples).map((r) => `${r.label.padEnd(11)} ${sparkline(r.values, spark)} ${number(r.values.at(-1)).padStart(7)}${r.unit}`),
    '',
    'sources refused most                       packets',
    ...(s.dropSources.length ? s.dropSources.slice(0, 8).map((d) => `  ${d.address.padEnd(40)} ${String(d.drops).padStart(8)}`) : ['  none']),
    '',
    'recent bans                                left      by',
    ...(s.bans.recent.length ? s.bans.recent.slice(0, 8).map((b) => `  ${b.address.padEnd(40)} ${left(b.until - now).padStart(7)}  ${b.by}: ${b.reason}`) : ['  none']),
  ];
  return out.map((l) => (l.length > width ? l.slice(0, width) : l));
}

/** One plain line per reading (output that is not a terminal): the same rates, no sparklines. */
export function topLine(samples: readonly Sample[]): string {
  const last = samples.at(-1)!;
  const cells = rows(samples).map((r) => `${r.label}=${number(r.values.at(-1))}`);
  return `${new Date(last.at).toISOString()} ${cells.join(' ')}`;
}

// Compiles the benchmark's C programs (UDP and SYN load generators, latency probe, C baseline
// consumer) into a temporary directory with the system gcc.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const PROGRAMS = { udpFlood: ['udp-flood.c'], synFlood: ['syn-flood.c'], udpRtt: ['udp-rtt.c'], cBaseline: ['c-baseline.c', '-lnetfilter_queue'] };

/** @returns {{udpFlood: string, synFlood: string, udpRtt: string, cBaseline: string}} paths of the built programs */
export function buildTools(dir) {
  const out = {};
  for (const [name, [src, ...libs]] of Object.entries(PROGRAMS)) {
    out[name] = join(dir, name);
    execFileSync('gcc', ['-O2', '-Wall', '-o', out[name], join(here, src), ...libs], { stdio: 'inherit' });
  }
  return out;
}

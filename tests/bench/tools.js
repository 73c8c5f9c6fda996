// Compiles the benchmark's C programs (UDP and SYN load generators, latency probe, C baseline
// consumer) into a temporary directory with the system gcc, and the XDP drop program with clang.
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

/**
 * Builds xdp-drop.c into a BPF object (Debian's clang and libbpf-dev; only the ban-drop section
 * needs them) and returns its path. -g: iproute2's loader reads the maps from the BTF it emits.
 * The kernel headers' asm/ directory lives under the multiarch triplet, which -target bpf does not add.
 */
export function buildXdp(dir) {
  const out = join(dir, 'xdp-drop.o');
  const triplet = execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  execFileSync('clang', ['-O2', '-g', '-Wall', '-target', 'bpf', `-I/usr/include/${triplet}`, '-c', join(here, 'xdp-drop.c'), '-o', out], { stdio: 'inherit' });
  return out;
}

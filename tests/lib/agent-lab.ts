// An end-to-end fixture: a lab, the answering service on the server, and the agent running a
// policy in the server namespace; everything is stopped and removed in the test's teardown.
import type { AgentStatus } from '../../agent/src/daemon/status.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { startAgent, type AgentProcess } from '../../agent/src/demo/agent-process.js';
import { startService } from '../../agent/src/demo/probes.js';
import { labFor, type Lab } from './netns.js';

export const SERVICE_PORTS = [22, 80, 8080, 9090];

/** A policy for tests: the web port 8080 open to all, 9090 closed, detectors at their defaults. */
export function testPolicy(extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    version: 1,
    rules: [
      { name: 'web', action: 'accept', protocol: 'tcp', ports: [8080, 80] },
      { name: 'ping', action: 'accept', protocol: 'icmp' },
      { name: 'ping6', action: 'accept', protocol: 'icmpv6' },
    ],
    ...extra,
  };
}

/** The running agent's status snapshot (daemon/status.ts), as `vpsfw status --json` prints it. */
export async function agentStatus(agent: AgentProcess): Promise<AgentStatus> {
  const r = await agent.cli(['status', '--json']);
  if (r.code !== 0) throw new Error(`vpsfw status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as AgentStatus;
}

export interface AgentLab {
  lab: Lab;
  agent: AgentProcess;
}

export async function agentLab(t: { teardown(fn: () => unknown): void }, policy: PolicyInput, extraArgs: string[] = []): Promise<AgentLab> {
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  const agent = await startAgent({ ns: lab.server, policy, extraArgs });
  t.teardown(() => agent.stop());
  return { lab, agent };
}

/**
 * iptables-save / ip6tables-save / ipset list of a namespace, counters stripped, for before/after
 * comparisons. A table with no rules and only its built-in chains at ACCEPT says nothing (iptables-nft
 * makes one the first time a table is used and keeps it, empty, after our chains are gone): left out.
 */
export async function kernelSnapshot(lab: Lab): Promise<string> {
  const builtinOnly = (block: string[]) => block.every((l) => /^(\*\w+|COMMIT|:[A-Z]+ ACCEPT \[0:0\])$/.test(l));
  const strip = (s: string) => {
    const lines = s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'));
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const end = lines[i]!.startsWith('*') ? lines.indexOf('COMMIT', i) : -1;
      if (end < 0) {
        out.push(lines[i]!);
        continue;
      }
      const block = lines.slice(i, end + 1);
      if (!builtinOnly(block)) out.push(...block);
      i = end;
    }
    return out.join('\n');
  };
  const v4 = await lab.exec(lab.server, 'iptables-save', []);
  const v6 = await lab.exec(lab.server, 'ip6tables-save', []);
  const sets = await lab.exec(lab.server, 'ipset', ['list']);
  return [strip(v4.stdout), strip(v6.stdout), sets.stdout].join('\n=====\n');
}

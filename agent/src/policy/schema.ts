// Policy v1: the one contract between the VPS owner, the NixOS module, the kernel renderer and
// the engine. Types are inferred from it; docs/policy.md is generated from it.
import { z } from 'zod';
import { LOOPBACK_NETWORKS, listenRefusal, parseListen } from '../http/listen.js';
import { compileLinear } from './regex.js';
import { parseCidr, parseDuration, parsePortSpec, type Cidr, type PortRange } from './units.js';

/** A string parsed by one of units.ts's parsers; null from the parser becomes an issue naming the value. */
function parsedString<T>(parse: (text: string) => T | null, message: string) {
  return z.string().transform((text, ctx): T => {
    const value = parse(text);
    if (value === null) {
      ctx.addIssue({ code: 'custom', message, input: text });
      return z.NEVER;
    }
    return value;
  });
}

export const Duration = parsedString(parseDuration, 'expected a duration such as "90s", "10m", "1h", "7d"').meta({
  description: 'A duration: a whole number and a unit (ms, s, m, h, d, w), e.g. "10m".',
});

export const CidrSpec = parsedString<Cidr>(parseCidr, 'expected an IPv4 or IPv6 address or CIDR').meta({ description: 'An IPv4 or IPv6 address or network: "203.0.113.0/24", "2001:db8::/32", "192.0.2.7".' });

export const PortSpec = z
  .union([z.number(), z.string()])
  .transform((spec, ctx): PortRange => {
    const r = parsePortSpec(spec);
    if (r === null || r === 'reversed') {
      const message = r === 'reversed' ? 'port range is reversed (from > to)' : 'expected a port 1-65535 or a range "from-to"';
      ctx.addIssue({ code: 'custom', message, input: spec });
      return z.NEVER;
    }
    return r;
  })
  .meta({ description: 'A port (1-65535) or an inclusive range "8000-8100".' });

export const Protocol = z.enum(['tcp', 'udp', 'icmp', 'icmpv6', 'any']);
export const Direction = z.enum(['inbound', 'outbound']);
export const Action = z.enum(['accept', 'drop', 'reject']);
export const FailMode = z.enum(['open', 'closed']);
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/** A ban duration, or false for "drop the packet but do not ban the source". */
const BanFor = z.union([Duration, z.literal(false)]);

const Ports = z.array(PortSpec).min(1);

/** An interface name as iptables takes it: up to 15 characters, a trailing "+" matching every name with that prefix. */
export const InterfaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,15}\+?$|^\+$/, 'expected an interface name of up to 15 letters, digits or _ . : @ -, optionally ending in "+"')
  .meta({ description: 'A network interface: "eth0", "wg0", or a prefix such as "veth+".' });

/**
 * Whose port is whose: `localPorts` are this server's, `remotePorts` the other side's, in either
 * direction; `ports` is the destination port, kept for older policies (inbound that is the local
 * port, outbound the remote one) and folded into the right field when parsed.
 */
const portFields = {
  localPorts: Ports.optional().describe("This server's own ports (tcp/udp only): the destination port of inbound packets, the source port of outbound ones."),
  remotePorts: Ports.optional().describe("The other side's ports (tcp/udp only): the source port of inbound packets, the destination port of outbound ones."),
  ports: Ports.optional().describe('Alias of the destination ports: `localPorts` for an inbound rule, `remotePorts` for an outbound one. Give one or the other, not both.'),
};

interface PortFields<P> {
  direction: 'inbound' | 'outbound';
  protocol: string;
  localPorts?: P[] | undefined;
  remotePorts?: P[] | undefined;
  ports?: P[] | undefined;
}

/** Ports need a transport protocol, and `ports` may not repeat the field it stands for. */
function checkPorts<P>(r: PortFields<P>, ctx: z.RefinementCtx, protocols: readonly string[] = ['tcp', 'udp']): void {
  for (const key of ['localPorts', 'remotePorts', 'ports'] as const) {
    if (r[key] && !protocols.includes(r.protocol)) ctx.addIssue({ code: 'custom', path: [key], message: `${key} need protocol tcp or udp, not ${r.protocol}`, input: r.protocol });
  }
  const alias = r.direction === 'inbound' ? 'localPorts' : 'remotePorts';
  if (r.ports && r[alias]) ctx.addIssue({ code: 'custom', path: ['ports'], message: `ports is the alias of ${alias} for an ${r.direction} rule: give one of them`, input: r.ports });
}

/** The parsed form: `ports` folded into localPorts (inbound) or remotePorts (outbound). */
function foldPorts<T extends PortFields<unknown>>(r: T): Omit<T, 'ports'> {
  const { ports, ...rest } = r;
  if (ports === undefined) return rest;
  return r.direction === 'inbound' ? { ...rest, localPorts: ports } : { ...rest, remotePorts: ports };
}

const Rate = z.strictObject({
  rate: z.number().positive().describe('Tokens added per `per` interval.'),
  per: Duration.prefault('1s'),
  burst: z.number().int().positive().describe('Bucket size: how many may arrive at once.'),
});

export const Rule = z
  .strictObject({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    action: Action,
    direction: Direction.default('inbound'),
    protocol: Protocol.default('any'),
    source: z.array(CidrSpec).optional().describe('Source networks; absent means any.'),
    destination: z.array(CidrSpec).optional().describe('Destination networks; absent means any.'),
    ...portFields,
    interfaces: z.array(InterfaceName).min(1).optional().describe('Interfaces the packet comes in on (inbound) or goes out on (outbound); absent means any.'),
  })
  .superRefine((r, ctx) => checkPorts(r, ctx))
  .transform(foldPorts)
  .describe('A static rule, decided in the kernel: the first rule that matches a new connection decides it.');

export const RateLimit = z
  .strictObject({
    name: z.string().min(1).max(64),
    direction: Direction.default('inbound'),
    protocol: Protocol.default('any'),
    ...portFields,
    ...Rate.shape,
    ban: BanFor.prefault(false).describe('Ban the source when it runs out of tokens, or only drop the excess.'),
  })
  .superRefine((r, ctx) => checkPorts(r, ctx))
  .transform(foldPorts)
  .describe('A per-source token bucket on new connections (and ICMP) that match it.');

export const Pattern = z
  .union([
    z.strictObject({ text: z.string().min(1).max(1024) }),
    z.strictObject({ hex: z.string().regex(/^([0-9a-fA-F]{2}\s*)+$/, 'expected hex bytes such as "de ad be ef"').max(2048) }),
    z
      .strictObject({
        regex: z.string().min(1).max(1024).describe('A JavaScript regular expression over the payload bytes read as latin1 (one character per byte), run on V8\'s linear-time engine; back-references and lookbehind are refused.'),
        flags: z
          .string()
          .default('')
          .describe('Only `m` (`^` and `$` also at line breaks) and `s` (`.` matches a line break). There is no `i` on the linear-time engine: write `[Gg][Ee][Tt]`; `g`, `y`, `u`, `d` and `v` change nothing for a search and are refused.'),
      })
      .superRefine((p, ctx) => {
        try {
          compileLinear(p.regex, p.flags);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['regex'], message: `invalid regular expression: ${(err as Error).message}`, input: p.regex });
        }
      }),
  ])
  .describe('What to look for: plain text, hex bytes, or a regular expression (run on a linear-time engine).');

export const PayloadRule = z
  .strictObject({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    protocol: z.enum(['tcp', 'udp']),
    direction: Direction.default('inbound').describe('inbound: what remote hosts send to this server; outbound: what this server sends (its applications\' replies on localPorts, or its own connections to remotePorts).'),
    ...portFields,
    pattern: Pattern,
    action: z
      .enum(['drop', 'reject', 'log'])
      .describe('drop: the segment is dropped silently and so is the rest of the flow in that direction (the connection stays open; TCP retransmits into the block). reject: the connection is killed at both ends: the kernel aborts this server\'s socket (the application\'s next read or write fails, ECONNABORTED) and sends the remote peer a reset (where the kernel cannot, the agent sends a reset to each end itself); for UDP an ICMP port unreachable to the sender. log: accepted and logged.'),
    ban: BanFor.prefault(false).describe('Ban the remote host (inbound rules only: outbound, the sender is this server).'),
    depth: z.number().int().positive().optional().describe("Inspect only the first N payload bytes of the flow in the rule's direction, counted from its first payload byte; a pattern that starts within them is caught even when it crosses the limit. Then the kernel stops queueing the flow (cheaper, but a pattern placed later passes)."),
  })
  .superRefine((r, ctx) => {
    checkPorts(r, ctx);
    if (!r.localPorts && !r.remotePorts && !r.ports) ctx.addIssue({ code: 'custom', path: ['localPorts'], message: 'a payload rule needs the ports it watches: localPorts, remotePorts or ports', input: undefined });
    // A UDP datagram is searched on its own: there is no stream for a depth to count along.
    if (r.depth !== undefined && r.protocol === 'udp') ctx.addIssue({ code: 'custom', path: ['depth'], message: 'depth counts along a TCP stream: not for protocol udp', input: r.depth });
  })
  .transform(foldPorts)
  .describe('Deep packet inspection: matched across TCP segments, per flow and direction.');

const Detector = <T extends z.core.$ZodLooseShape>(shape: T, ban = '10m') =>
  z.strictObject({ enabled: z.boolean().default(true), ...shape, ban: BanFor.prefault(ban) });

export const Detectors = z.strictObject({
  synFlood: Detector({
    perSource: Rate.prefault({ rate: 20, burst: 40 }).describe('SYNs per source.'),
    total: Rate.prefault({ rate: 2000, burst: 4000 }).describe('SYNs from all sources; beyond it new SYNs are dropped (no ban).'),
  }).prefault({}),
  icmpFlood: Detector({
    perSource: Rate.prefault({ rate: 10, burst: 20 }),
  }).prefault({}),
  oversizedIcmp: Detector({
    maxBytes: z.number().int().min(64).max(65535).default(1024).describe('Largest echo request (whole IP packet, bytes) let through.'),
  }).prefault({}),
  portScan: Detector({
    ports: z.number().int().min(2).max(1024).default(12).describe('Distinct closed ports one source may touch within `window` (each source tracked keeps up to this many, 2 bytes each).'),
    window: Duration.prefault('10s'),
  }, '1h').prefault({}),
});

const SourceName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').describe('Names the source: the decider of its bans ("log:<name>") and its position in the state directory.');
const LogFile = z.string().min(1).refine((f) => f.startsWith('/'), 'expected an absolute path').describe('A file followed across rotation (rename or copytruncate) and restarts; read from its end the first time.');

export const SshdSource = z
  .strictObject({
    name: SourceName,
    kind: z.literal('sshd'),
    file: LogFile.optional(),
    journal: z.string().min(1).max(256).regex(/^[A-Za-z0-9@_.:*\\-]+$/, 'expected a systemd unit name (or a glob of them) such as "ssh.service"').optional().describe('A systemd unit whose journal is followed (`journalctl --follow --unit`), e.g. "ssh.service" (Debian, Ubuntu) or "sshd.service" (NixOS); a glob of units too. Give `file` or `journal`, not both.'),
    maxRetry: z.number().int().min(1).max(1000).default(5).describe('Failures from one source within `findTime` that ban it.'),
    findTime: Duration.prefault('10m').describe('The window `maxRetry` failures must fall in (the agent\'s clock, as lines arrive).'),
    ban: Duration.prefault('1h').describe('Ban length (escalated for repeat offenders like every ban).'),
  })
  .superRefine((s, ctx) => {
    if ((s.file === undefined) === (s.journal === undefined)) ctx.addIssue({ code: 'custom', path: ['file'], message: 'give exactly one of file and journal', input: { file: s.file, journal: s.journal } });
  })
  .describe("OpenSSH's authentication failures (failed password, invalid user, too many attempts, pre-auth disconnects), IPv4 and IPv6; a successful login forgives its source.");

export const SuricataEveSource = z
  .strictObject({
    name: SourceName,
    kind: z.literal('suricata-eve'),
    file: LogFile,
    minSeverity: z.number().int().min(1).max(255).default(2).describe('Alerts of this severity or a more severe one (a smaller number: 1 is the highest) ban their src_ip.'),
    ban: Duration.prefault('1h').describe('Ban length (escalated for repeat offenders like every ban).'),
    signatures: z.record(z.string().regex(/^\d+$/, 'expected a signature id'), BanFor).prefault({}).describe('Per signature id: its own ban length, or false to never ban for it (whatever its severity).'),
  })
  .describe("Suricata's eve.json: each `event_type: \"alert\"` record at or above `minSeverity` bans its `src_ip`.");

export const LogSource = z.discriminatedUnion('kind', [SshdSource, SuricataEveSource]);

export const Bans = z.strictObject({
  duration: Duration.prefault('1h').describe('Ban length when a detector or `vpsfw ban` gives none.'),
  escalation: z
    .strictObject({
      factor: z.number().min(1).max(100).default(2).describe('Each repeat ban lasts this many times the last one.'),
      max: Duration.prefault('7d'),
      memory: Duration.prefault('7d').describe('How long a source is remembered as an offender.'),
    })
    .prefault({}),
  allowlist: z.array(CidrSpec).prefault(['127.0.0.0/8', '::1/128']).describe('Never banned and never judged by vpsfw (the host firewall still judges them); denied networks do not apply to them.'),
  maxEntries: z.number().int().min(16).max(1_000_000).default(100_000).describe('Bans held at most; at the cap the one expiring soonest makes room.'),
  stateFile: z.string().min(1).optional().describe('Where bans persist across restarts; default <state dir>/bans.json.'),
});

/** A secret's file: absolute, since the service's working directory is nobody's business. */
const SecretFile = z.string().min(1).regex(/^\//, 'expected an absolute path');

export const Crowdsec = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .describe('The CrowdSec Local API, e.g. "http://127.0.0.1:8080/"; https is verified against the system CA store.'),
    bouncerKeyFile: SecretFile.optional().describe('A file holding the bouncer key (`cscli bouncers add`): the agent then enforces the LAPI\'s ban decisions. Absent: no decisions are pulled.'),
    pollInterval: Duration.prefault('10s').describe('How often the agent asks the LAPI for new and deleted decisions.'),
    backoffMax: Duration.prefault('5m').describe('The longest wait between tries while the LAPI is unreachable (the wait starts at pollInterval and doubles).'),
    timeout: Duration.prefault('30s').describe('A request to the LAPI that makes no progress for this long has failed.'),
    machine: z
      .strictObject({
        login: z.string().min(1).max(128).describe('The machine\'s name (`cscli machines add NAME`).'),
        passwordFile: SecretFile.describe('A file holding its password.'),
      })
      .optional()
      .describe('Report every ban the agent makes itself to the LAPI as an alert with its decision, for the rest of the fleet. Absent: nothing is reported.'),
    reportBacklog: z.number().int().min(1).max(100_000).default(10_000).describe('Alerts kept while the LAPI cannot take them; beyond it the oldest are dropped (and counted).'),
  })
  .superRefine((c, ctx) => {
    if (c.bouncerKeyFile === undefined && c.machine === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs bouncerKeyFile (enforce decisions), machine (report bans), or both', input: c });
    }
  })
  .describe('The CrowdSec Local API (docs/fleet.md): its ban decisions enforced here, the bans made here reported to it.');

export const Http = z
  .strictObject({
    listen: parsedString(parseListen, 'expected an address and a port such as "127.0.0.1:9469" or "[::1]:9469"')
      .nullable()
      .default(null)
      .describe('Where the agent serves its metrics (GET /metrics) and its dashboard (GET /), behind a token: an address and a port, e.g. "127.0.0.1:9469"; null (the default): no listener. `vpsfw run --http` overrides it.'),
    allowFrom: z
      .array(CidrSpec)
      .min(1)
      .prefault([...LOOPBACK_NETWORKS])
      .describe('The networks that may connect (others are cut off, and the systemd units allow IP traffic with these only). A listener beyond loopback needs a network beyond it here: plain HTTP, the token its only guard (docs/observability.md, Risks).'),
  })
  .superRefine((h, ctx) => {
    const refusal = h.listen && listenRefusal(h.listen, h.allowFrom);
    if (refusal) ctx.addIssue({ code: 'custom', path: ['listen'], message: refusal, input: `${h.listen!.host}:${h.listen!.port}` });
  })
  .describe('The HTTP listener: Prometheus metrics and the dashboard (docs/observability.md). Off unless `listen` is set; read at start (a reload that changes it is refused).');

export const Policy = z
  .strictObject({
    version: z.literal(1),
    queue: z
      .strictObject({
        num: z.number().int().min(0).max(65535).default(0),
        failMode: FailMode.default('open').describe('open: traffic flows if the agent is gone; closed: new connections are refused.'),
        maxLen: z.number().int().min(16).max(1_048_576).default(4096).describe('Packets the kernel holds for the agent at most; beyond it the fail mode decides (docs/architecture.md, Overflow).'),
        logGroup: z.number().int().min(0).max(65535).default(100).describe('The NFLOG group through which the kernel shows the agent samples of what the static rules refused (for the port-scan and flood detectors); one process per group.'),
        perSource: z
          .strictObject({
            rate: z.number().int().positive().default(1000).describe('New packets per second one source may send to the queue.'),
            burst: z.number().int().positive().default(2000),
          })
          .prefault({})
          .describe('The kernel drops what one source sends to the queue beyond this (a hashlimit before it), so no source can fill the queue alone.'),
      })
      .prefault({}),
    defaults: z
      .strictObject({
        inbound: Action.default('drop').describe('Verdict for new inbound connections no rule matches.'),
        outbound: Action.default('accept'),
        malformed: z.enum(['drop', 'accept']).default('drop').describe('Verdict for packets that cannot be decoded.'),
      })
      .prefault({}),
    mode: z
      .enum(['enforce', 'audit'])
      .default('enforce')
      .describe('audit: judge everything as usual and enforce nothing (every packet goes on, no ban reaches the kernel); each decision is logged as would-drop, would-reject or would-ban. Switching is a reload.'),
    denyNetworks: z.array(CidrSpec).prefault([]).describe('Dropped in the kernel before connection tracking (raw table), unless allowlisted.'),
    trustedInterfaces: z.array(InterfaceName).default([]).describe('Traffic on these interfaces is never judged by vpsfw (bans and denied networks still apply); the host firewall still sees it.'),
    rules: z.array(Rule).default([]),
    rateLimits: z.array(RateLimit).default([]),
    detectors: Detectors.prefault({}),
    payloadRules: z.array(PayloadRule).default([]),
    bans: Bans.prefault({}),
    logSources: z.array(LogSource).default([]).describe('Logs of other programs that ban the sources they accuse (docs/logsources.md).'),
    limits: z
      .strictObject({
        sources: z.number().int().min(16).max(10_000_000).default(100_000).describe('Sources of each family each per-source table (every rate limit, the flood and scan detectors) remembers; beyond it the least recently seen is forgotten.'),
        flows: z.number().int().min(16).max(10_000_000).default(100_000).describe('TCP flows of each family with payload-inspection state; beyond it the least recently seen restarts with an empty window.'),
        flowIdle: Duration.prefault('5m').describe('A flow idle this long loses its inspection state.'),
      })
      .prefault({})
      .describe("The agent's memory bound, for each family: a source costs about 26 bytes per table (38 for IPv6), a flow about 52 (66) plus its window (the longest text pattern less one byte, or 1 KiB with a regular expression)."),
    crowdsec: Crowdsec.optional(),
    logging: z
      .strictObject({
        level: LogLevel.default('info'),
        packets: z.boolean().default(false).describe('One event per judged packet (debug; heavy).'),
        pcap: z.string().min(1).nullable().default(null).describe('Write judged packets to this pcap file.'),
        dropLogsPerSecond: z.number().int().min(0).default(20).describe('Drop/reject events logged per second at most; the rest are counted.'),
        statsInterval: Duration.prefault('60s'),
      })
      .prefault({}),
    http: Http.prefault({}),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    const names = [...p.rules.map((r, i) => ['rules', i, r.name] as const), ...p.payloadRules.map((r, i) => ['payloadRules', i, r.name] as const)];
    for (const [list, i, name] of names) {
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: 'duplicate rule name', input: name });
      seen.add(name);
    }
    const sources = new Set<string>();
    p.logSources.forEach((s, i) => {
      if (sources.has(s.name)) ctx.addIssue({ code: 'custom', path: ['logSources', i, 'name'], message: 'duplicate log source name', input: s.name });
      sources.add(s.name);
    });
  });

export type PolicyInput = z.input<typeof Policy>;
export type CrowdsecSettings = z.output<typeof Crowdsec>;
export type Policy = z.output<typeof Policy>;
export type Rule = z.output<typeof Rule>;
export type RateLimit = z.output<typeof RateLimit>;
export type PayloadRule = z.output<typeof PayloadRule>;
export type Pattern = z.output<typeof Pattern>;
export type Action = z.output<typeof Action>;
export type Protocol = z.output<typeof Protocol>;
export type Direction = z.output<typeof Direction>;
export type LogSource = z.output<typeof LogSource>;
export type SshdSource = z.output<typeof SshdSource>;
export type SuricataEveSource = z.output<typeof SuricataEveSource>;

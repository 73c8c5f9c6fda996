// `vpsfw run`: wires the pieces and owns the agent's lifecycle. The only module that knows them all.
//   start: load policy → apply kernel rules (repairs leftovers) → restore bans → open queue and
//          NFLOG group → log sources, CrowdSec → control socket
//   SIGHUP / `vpsfw reload`: new policy validated first; a bad one is refused, the old one keeps running
//   SIGTERM / SIGINT: a reload in flight finishes first; stop reading, save bans, and remove every
//          rule and set we added — unless the kernel state belongs to the rules unit (--keep-rules),
//          which keeps protection in force across a restart and removes it on a real stop.
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { ipsetBanKernel } from './bans/kernel-set.js';
import { banSettings } from './bans/settings.js';
import { jsonStateFile } from './bans/state-file.js';
import { banEvent } from './bans/events.js';
import { BanStore } from './bans/store.js';
import { closeControl, listenControl } from './control/server.js';
import type { Request } from './control/protocol.js';
import { Crowdsec } from './crowdsec/crowdsec.js';
import { collectGarbage } from './daemon/collect-garbage.js';
import { DropSources } from './daemon/drop-sources.js';
import { EventLoopMonitor } from './daemon/event-loop.js';
import { systemInterfaceNames } from './daemon/interfaces.js';
import { WouldBans } from './daemon/would-bans.js';
import { OverflowWatch } from './daemon/overflow-watch.js';
import { makeObserver, makePacketHandler } from './daemon/packet-handler.js';
import { summarizePolicy, TOP_DROP_SOURCES, type AgentStatus } from './daemon/status.js';
import { Engine } from './engine/engine.js';
import { describeBy, type Verdict } from './engine/verdict.js';
import { PolicyInvalidError, UsageError, VpsfwError } from './errors.js';
import { EventBus, logEvents } from './events/bus.js';
import type { AgentHttp } from './http/agent-http.js';
import { formatListen, listenRefusal, type Listen } from './http/listen.js';
import { tokenPath } from './http/token.js';
import { KernelFirewall } from './kernel/apply.js';
import { readCounters, Unjudged } from './kernel/counters.js';
import { realRunner } from './kernel/exec.js';
import { renderKernel } from './kernel/render.js';
import { LogLimiter } from './log/limiter.js';
import type { Logger } from './log/logger.js';
import { openPcapFile } from './log/pcap.js';
import { LogSources } from './logsources/sources.js';
import { canonicalAddress } from './packet/address.js';
import type { Packet } from './packet/types.js';
import type { LoadedPolicy, LoadOptions } from './policy/load.js';
import { loadPolicyIsolated } from './policy/load-isolated.js';
import { restartNeeded } from './policy/restart.js';
import { NativeQueue } from './queue/native.js';
import { NflogReader } from './queue/nflog.js';
import { connectionKiller } from './queue/connection-killer.js';
import { NativeRawSender, type RawSender } from './queue/raw-sender.js';
import type { LogOptions, PacketLog, PacketQueue, QueueOptions } from './queue/types.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  policy: LoadOptions;
  controlPath: string;
  stateDir: string;
  debug: boolean;
  pcap?: string | undefined;
  log: Logger;
  /** Leave rules, sets and bans in force at exit: the rules unit owns them (`vpsfw apply`, `vpsfw cleanup`). */
  keepRules?: boolean;
  /** Audit mode whatever the policy says (`vpsfw run --audit`). */
  audit?: boolean;
  /** The queue backend; the project's NFQUEUE addon unless a test or benchmark gives another. */
  openQueue?: (opts: QueueOptions) => PacketQueue;
  /** The NFLOG reader for what the kernel refused; the addon's unless a test gives another. */
  openLog?: (opts: LogOptions) => PacketLog;
  /** `--http ADDR:PORT`: the HTTP listener's address, over the policy's http.listen. */
  http?: Listen | undefined;
}

/** How often the agent compares what the kernel queued with what it judged (docs/architecture.md, Overflow). */
const OVERFLOW_CHECK_MS = 5000;

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = opts.log;
  const events = new EventBus((err) => log.error({ event: 'error', err }, 'an event listener failed'));
  logEvents(events, log);
  // A stop can come at any moment from here on; it is carried out once the agent is up, so a
  // stop during start never leaves half of it behind.
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const startedAt = Date.now();
  // `--audit` overrides the policy's mode, at start and at every reload.
  const load = async (): Promise<LoadedPolicy> => {
    const l = await loadPolicyIsolated(opts.policy);
    return opts.audit ? { ...l, policy: { ...l.policy, mode: 'audit' } } : l;
  };
  let current: LoadedPolicy = await load();
  log.level = current.policy.logging.level;
  const listen = opts.http ?? current.policy.http.listen;
  const refusal = listen && listenRefusal(listen, current.policy.http.allowFrom);
  if (refusal) throw new UsageError(`--http ${formatListen(listen)}: ${refusal}`);
  const runner = realRunner();
  const kernel = new KernelFirewall(runner);
  const unjudged = new Unjudged();
  await kernel.apply(renderKernel(current.policy));

  const bans = new BanStore(
    {
      kernel: ipsetBanKernel(runner),
      file: jsonStateFile(current.policy.bans.stateFile ?? join(opts.stateDir, 'bans.json')),
      now: Date.now,
      onError: (err) => events.emit({ event: 'error', level: 'error', msg: 'ban store error', err }),
    },
    banSettings(current.policy),
  );
  // The state file and the kernel sets, reconciled both ways (a bad line or an unreadable file is
  // reported through onError): after a clean stop the sets are empty, after a crash they hold the
  // bans made since the last save.
  const restored = await bans.restore();

  const engine = new Engine(current.policy, { now: Date.now, interfaceName: systemInterfaceNames() });
  const limiter = new LogLimiter(current.policy.logging.dropLogsPerSecond);
  const dropSources = new DropSources();
  const pcapPath = opts.pcap ?? current.policy.logging.pcap ?? undefined;
  const pcap = pcapPath ? openPcapFile(pcapPath, (err) => events.emit({ event: 'error', level: 'error', msg: 'pcap file failed: no more packets are written to it', err, pcap: pcapPath })) : undefined;

  const audit = () => current.policy.mode === 'audit';
  const wouldBans = new WouldBans();
  const onBan = (p: Packet, v: Verdict) => {
    const req = { target: p.src, durationMs: v.ban?.durationMs ?? null, reason: v.reason, by: describeBy(v.by), origin: 'agent' } as const;
    if (!audit()) {
      const r = bans.ban(req);
      if (r.kind === 'banned') events.emit(banEvent(r.entry));
      return;
    }
    // Audit mode: the ban the store would make, said once while it would last; nothing recorded.
    const r = bans.preview(req);
    if (r.kind === 'banned' && wouldBans.first(r.entry.address, r.entry.until, Date.now())) {
      events.emit({ ...banEvent(r.entry), event: 'would-ban', msg: `would ban ${r.entry.address}` });
    }
  };

  let resets: RawSender | undefined;
  const deps = {
    engine: () => engine,
    events,
    limiter,
    now: Date.now,
    debug: opts.debug ? (line: string) => process.stderr.write(line + '\n') : undefined,
    pcap,
    logPackets: () => current.policy.logging.packets,
    onBan,
    audit,
    // The raw sender is opened when first needed: only a kill the kernel cannot do itself uses it.
    killer: connectionKiller(() => (resets ??= new NativeRawSender())),
    onError: (err: unknown) => events.emit({ event: 'error', level: 'error', msg: 'cannot kill a connection', err }),
    dropSources,
  };
  const queueOpts: QueueOptions = { num: current.policy.queue.num, maxLen: current.policy.queue.maxLen, failOpen: current.policy.queue.failMode === 'open' };
  const queue = (opts.openQueue ?? ((o) => new NativeQueue(o)))(queueOpts);
  queue.start(makePacketHandler(deps));
  const nflog = (opts.openLog ?? ((o) => new NflogReader(o)))({ group: current.policy.queue.logGroup });
  nflog.start(makeObserver(deps));

  // Log sources (sshd, Suricata alerts) hand the ban store the same request as any other source.
  const logSources = new LogSources({
    stateDir: opts.stateDir,
    log,
    sink: (req) => {
      const r = bans.ban(req);
      if (r.kind === 'banned') events.emit(banEvent(r.entry));
      return r;
    },
  });
  await logSources.update(current.policy.logSources);
  // CrowdSec (docs/fleet.md): its decisions into the ban store; every `ban` event reported.
  const crowdsec = new Crowdsec({ bans, events, version: VERSION, audit });
  await crowdsec.apply(current.policy.crowdsec);

  const reloads = { accepted: 0, rejected: 0 };
  let stopping = false;
  let reloading: Promise<unknown> = Promise.resolve();
  const refuse = (why: string, err: Error & { issues?: unknown }) => {
    reloads.rejected++;
    events.emit({ event: 'reload-rejected', level: 'error', msg: `reload rejected: ${err.message}`, trigger: why, issues: err instanceof PolicyInvalidError ? err.issues : undefined, err: err instanceof PolicyInvalidError ? undefined : err, policyHash: current.hash });
    return err;
  };
  const reload = (why: string) => {
    const next = reloading.then(async () => {
      if (stopping) throw refuse(why, new VpsfwError('VPSFW_ERR_STOPPING', 'the agent is stopping: reload refused'));
      let loaded: LoadedPolicy;
      try {
        loaded = await load();
      } catch (err) {
        throw refuse(why, err as Error);
      }
      const field = restartNeeded(current.policy, loaded.policy);
      if (field !== null) {
        const value = field.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], loaded.policy);
        throw refuse(why, new PolicyInvalidError(loaded.source, [{ path: field, message: 'cannot change while running: restart the service', value }]));
      }
      try {
        unjudged.rebase(await queuedNow());
        await kernel.apply(renderKernel(loaded.policy));
      } catch (err) {
        throw refuse(why, err as Error);
      }
      engine.replacePolicy(loaded.policy);
      if (loaded.policy.mode !== current.policy.mode) wouldBans.clear();
      bans.updateSettings(banSettings(loaded.policy));
      await logSources.update(loaded.policy.logSources);
      await crowdsec.apply(loaded.policy.crowdsec);
      log.level = loaded.policy.logging.level;
      reloads.accepted++;
      events.emit({ event: 'reload', level: 'info', msg: 'policy reloaded', mode: loaded.policy.mode, trigger: why, policySource: loaded.source, policyHash: loaded.hash, previousHash: current.hash });
      current = loaded;
      collectGarbage();
      return { policyHash: loaded.hash, source: loaded.source };
    });
    reloading = next.catch(() => undefined);
    return next;
  };

  const save = (family: 4 | 6, table: 'raw' | 'mangle') => kernel.save(family, table);
  const queuedNow = async () => (await readCounters(save)).queued;
  const overflow = new OverflowWatch(events, () => current.policy.queue.failMode);
  const eventLoop = new EventLoopMonitor();
  let http: AgentHttp | null = null;

  const status = async (): Promise<AgentStatus> => {
    const counters = await readCounters(save);
    const q = queue.stats();
    return {
      version: VERSION,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      mode: current.policy.mode,
      policy: summarizePolicy(current),
      kernel: { hooks: await kernel.hooks(), counters },
      queue: {
        num: current.policy.queue.num,
        failMode: current.policy.queue.failMode,
        maxLen: current.policy.queue.maxLen,
        received: q.received,
        unjudged: unjudged.total(counters.queued, q.received, q.kernel?.inQueue ?? 0),
        overflowing: overflow.overflowing,
        kernel: q.kernel,
        observed: nflog.stats().received,
      },
      ...engine.stats(),
      bans: bans.stats(),
      logSources: logSources.stats(),
      crowdsec: crowdsec.status(),
      logsSuppressed: limiter.suppressedTotal,
      reloads: { ...reloads },
      dropSources: dropSources.top(TOP_DROP_SOURCES),
      http: http?.status ?? null,
      // What the policy's limits bound (docs/benchmarks.md, Memory): the state tables are array
      // buffers sized for their limits, of which only the pages used are resident.
      memory: process.memoryUsage(),
      eventLoopDelayMs: eventLoop.read(),
    };
  };

  const handle = async (req: Request): Promise<unknown> => {
    switch (req.cmd) {
      case 'status':
        return status();
      case 'bans':
        return bans.list();
      case 'reload':
        return reload('control');
      case 'ban': {
        const address = canonicalAddress(req.address);
        const r = bans.ban({ target: address, durationMs: req.durationMs, reason: req.reason || 'manual', by: 'control', origin: 'control', escalate: req.durationMs === null });
        if (r.kind === 'allowlisted') throw new VpsfwError('VPSFW_ERR_BAN_REFUSED', `${address} is on the allowlist (bans.allowlist): not banned`);
        if (r.kind === 'refused') throw new VpsfwError('VPSFW_ERR_BAN_REFUSED', r.reason);
        await bans.flushed();
        await bans.saved();
        events.emit(banEvent(r.entry));
        return r.entry;
      }
      case 'unban': {
        const address = canonicalAddress(req.address);
        const had = await bans.unban(address);
        await bans.saved();
        engine.forget(address);
        events.emit({ event: 'unban', level: 'warn', msg: `unban ${address}`, address, by: 'control', wasBanned: had });
        return { address, wasBanned: had };
      }
    }
  };
  if (listen) {
    // Loaded only when on: prom-client, node:http and the dashboard's files stay out otherwise.
    const { startAgentHttp } = await import('./http/agent-http.js');
    http = await startAgentHttp({ listen, allowFrom: current.policy.http.allowFrom, tokenFile: tokenPath(resolve(opts.stateDir)), status, bans: () => bans.list(), events, onError: (err, path) => events.emit({ event: 'error', level: 'error', msg: `HTTP ${path} failed`, err, path }) });
  }
  const control: Server = await listenControl(opts.controlPath, handle);

  const timers = [
    setInterval(() => void status().then((s) => events.emit({ event: 'stats', level: 'info', msg: 'stats', ...s }), () => undefined), current.policy.logging.statsInterval),
    setInterval(() => {
      bans.sweep();
      engine.sweep();
    }, 5000),
    setInterval(() => void status().then((s) => overflow.update(s.queue.unjudged, Date.now()), () => undefined), OVERFLOW_CHECK_MS),
  ];
  for (const t of timers) t.unref();

  events.emit({ event: 'start', level: 'info', msg: audit() ? 'vpsfw started in AUDIT mode: judging only, nothing enforced' : 'vpsfw started', mode: current.policy.mode, version: VERSION, pid: process.pid, policySource: current.source, policyHash: current.hash, queue: queueOpts, logGroup: current.policy.queue.logGroup, bansRestored: restored, controlPath: opts.controlPath, keepRules: opts.keepRules === true, http: http?.status.listen ?? null });

  process.on('SIGHUP', () => void reload('SIGHUP').catch(() => undefined));
  const signal = await stopSignal;
  events.emit({ event: 'stopping', level: 'info', msg: 'stopping', signal });
  // A reload in flight finishes (or fails) before anything is torn down: the end state is either
  // everything in force or nothing left, never rules without their agent's knowledge.
  stopping = true;
  await reloading;

  for (const t of timers) clearInterval(t);
  eventLoop.stop();
  await http?.close();
  queue.close();
  nflog.close();
  resets?.close();
  await logSources.stop();
  await crowdsec.stop();
  await closeControl(control, opts.controlPath).catch(() => undefined);
  await bans.save().catch((err) => events.emit({ event: 'error', level: 'error', msg: 'cannot save bans', err }));
  if (!opts.keepRules) await kernel.remove();
  await pcap?.close();
  events.emit({ event: 'stop', level: 'info', msg: 'vpsfw stopped', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), keptRules: opts.keepRules === true, ...engine.stats() });
}

// `vpsfw run`: wires the pieces and owns the lifecycle. The only module that knows them all.
//   start: load policy → apply kernel rules (repairs leftovers) → restore bans → open queue → control socket
//   SIGHUP / `vpsfw reload`: new policy validated first; a bad one is logged and the old one keeps running
//   SIGTERM / SIGINT: stop reading, save bans, remove every rule and set we added, exit 0
import type { Server } from 'node:net';
import { join } from 'node:path';
import { allowlistMatcher } from './bans/allowlist.js';
import { ipsetBanKernel } from './bans/kernel-set.js';
import { jsonStateFile } from './bans/state-file.js';
import { BanStore, type BanSettings } from './bans/store.js';
import { closeControl, listenControl } from './control/server.js';
import type { Request } from './control/protocol.js';
import { makePacketHandler } from './daemon/packet-handler.js';
import { Engine } from './engine/engine.js';
import { describeBy, type Verdict } from './engine/verdict.js';
import { PolicyInvalidError, VpsfwError } from './errors.js';
import { KernelFirewall } from './kernel/apply.js';
import { realRunner } from './kernel/exec.js';
import { renderKernel } from './kernel/render.js';
import { LogLimiter } from './log/limiter.js';
import type { Logger } from './log/logger.js';
import { openPcapFile } from './log/pcap.js';
import { LogSources } from './logsources/sources.js';
import { canonicalAddress } from './packet/address.js';
import type { LoadedPolicy, LoadOptions } from './policy/load.js';
import { loadPolicyIsolated } from './policy/load-isolated.js';
import type { Policy } from './policy/schema.js';
import { formatDuration } from './policy/units.js';
import { NativeQueue } from './queue/native.js';
import type { PacketQueue, QueueOptions } from './queue/types.js';

export interface DaemonOptions {
  policy: LoadOptions;
  controlPath: string;
  stateDir: string;
  debug: boolean;
  pcap?: string | undefined;
  log: Logger;
  /** The queue backend; the project's NFQUEUE addon unless a test or benchmark gives another. */
  openQueue?: (opts: QueueOptions) => PacketQueue;
}

const VERSION = '0.1.0';

function banSettings(p: Policy): BanSettings {
  return {
    duration: p.bans.duration,
    escalation: p.bans.escalation,
    maxEntries: p.bans.maxEntries,
    isAllowlisted: allowlistMatcher(p.bans.allowlist),
  };
}

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = opts.log;
  const startedAt = Date.now();
  let current: LoadedPolicy = await loadPolicyIsolated(opts.policy);
  log.level = current.policy.logging.level;
  const runner = realRunner();
  const kernel = new KernelFirewall(runner);
  await kernel.apply(renderKernel(current.policy));

  const bans = new BanStore(
    {
      kernel: ipsetBanKernel(runner),
      file: jsonStateFile(current.policy.bans.stateFile ?? join(opts.stateDir, 'bans.json')),
      now: Date.now,
      onError: (err) => log.error({ event: 'error', err }, 'ban store error'),
    },
    banSettings(current.policy),
  );
  // Read before the restore refills it: after a clean stop the set is empty, after a crash it
  // holds the bans made since the last save.
  const kernelBans = await kernel.banList();
  const restored =
    (await bans.restore().catch((err) => {
      log.warn({ event: 'error', err }, 'ban state unreadable: starting with the bans the kernel still holds');
      return 0;
    })) + bans.adopt(kernelBans);

  let engine = new Engine(current.policy, { now: Date.now });
  const limiter = new LogLimiter(current.policy.logging.dropLogsPerSecond);
  const pcapPath = opts.pcap ?? current.policy.logging.pcap ?? undefined;
  const pcap = pcapPath ? openPcapFile(pcapPath, (err) => log.error({ event: 'error', err, pcap: pcapPath }, 'pcap file failed: no more packets are written to it')) : undefined;

  const onBan = (address: string, v: Verdict) => {
    const r = bans.ban(address, { durationMs: v.ban?.durationMs ?? null, reason: v.reason, by: describeBy(v.by) });
    if (r.kind === 'banned') {
      log.warn({ event: 'ban', address, by: r.entry.by, reason: r.entry.reason, duration: formatDuration(r.entry.until - r.entry.since), offense: r.entry.offense, until: new Date(r.entry.until).toISOString() }, `ban ${address}`);
    }
  };

  const queueOpts: QueueOptions = { num: current.policy.queue.num, maxLen: current.policy.queue.maxLen, failOpen: current.policy.queue.failMode === 'open' };
  const queue = (opts.openQueue ?? ((o) => new NativeQueue(o)))(queueOpts);
  queue.start(
    makePacketHandler({
      engine: () => engine,
      bans,
      log,
      limiter,
      now: Date.now,
      debug: opts.debug ? (line) => process.stderr.write(line + '\n') : undefined,
      pcap,
      logPackets: () => current.policy.logging.packets,
      onBan,
    }),
  );

  const logSources = new LogSources({
    stateDir: opts.stateDir,
    log,
    sink: (req) => {
      const r = bans.ban(req.target, { durationMs: req.durationMs, reason: req.reason, by: req.by });
      if (r.kind === 'banned') log.warn({ event: 'ban', address: req.target, by: req.by, origin: req.origin, reason: req.reason, duration: formatDuration(r.entry.until - r.entry.since), offense: r.entry.offense, until: new Date(r.entry.until).toISOString() }, `ban ${req.target}`);
      return r;
    },
  });
  await logSources.update(current.policy.logSources);

  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (why: string) => {
    const next = reloading.then(async () => {
      let loaded: LoadedPolicy;
      try {
        loaded = await loadPolicyIsolated(opts.policy);
      } catch (err) {
        log.error({ event: 'reload-rejected', trigger: why, err: err instanceof PolicyInvalidError ? undefined : err, issues: err instanceof PolicyInvalidError ? err.issues : undefined, policyHash: current.hash }, `reload rejected: ${(err as Error).message}`);
        throw err;
      }
      if (loaded.policy.queue.num !== current.policy.queue.num) {
        const err = new PolicyInvalidError(loaded.source, [{ path: 'queue.num', message: 'cannot change while running: restart the service', value: loaded.policy.queue.num }]);
        log.error({ event: 'reload-rejected', trigger: why, issues: err.issues, policyHash: current.hash }, err.message);
        throw err;
      }
      await kernel.apply(renderKernel(loaded.policy));
      engine.replacePolicy(loaded.policy);
      bans.updateSettings(banSettings(loaded.policy));
      await logSources.update(loaded.policy.logSources);
      log.level = loaded.policy.logging.level;
      log.info({ event: 'reload', trigger: why, policySource: loaded.source, policyHash: loaded.hash, previousHash: current.hash }, 'policy reloaded');
      current = loaded;
      return { policyHash: loaded.hash, source: loaded.source };
    });
    reloading = next.catch(() => undefined);
    return next;
  };

  const status = () => {
    const q = queue.stats();
    return {
      version: VERSION,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      policy: { source: current.source, hash: current.hash },
      queue: { num: current.policy.queue.num, failMode: current.policy.queue.failMode, received: q.received, kernelDrops: q.kernelDrops },
      ...engine.stats(),
      bans: { active: bans.count() },
      logSources: logSources.stats(),
      logsSuppressed: limiter.suppressed,
      // What the policy's limits bound (docs/benchmarks.md, Memory): the state tables are array
      // buffers sized for their limits, of which only the pages used are resident.
      memory: process.memoryUsage(),
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
        const r = bans.ban(address, { durationMs: req.durationMs, reason: req.reason || 'manual', by: 'control', escalate: req.durationMs === null });
        if (r.kind === 'allowlisted') throw new VpsfwError('VPSFW_ERR_BAN_REFUSED', `${address} is on the allowlist (bans.allowlist): not banned`);
        await bans.flushed();
        log.warn({ event: 'ban', address, by: 'control', reason: r.entry.reason, duration: formatDuration(r.entry.until - r.entry.since), until: new Date(r.entry.until).toISOString() }, `ban ${address}`);
        return r.entry;
      }
      case 'unban': {
        const address = canonicalAddress(req.address);
        const had = await bans.unban(address);
        engine.forget(address);
        log.warn({ event: 'unban', address, by: 'control', wasBanned: had }, `unban ${address}`);
        return { address, wasBanned: had };
      }
    }
  };
  const control: Server = await listenControl(opts.controlPath, handle);

  const statsTimer = setInterval(() => log.info({ event: 'stats', ...status() }, 'stats'), current.policy.logging.statsInterval).unref();
  const sweepTimer = setInterval(() => {
    bans.sweep();
    engine.sweep();
  }, 5000).unref();

  log.info({ event: 'start', version: VERSION, pid: process.pid, policySource: current.source, policyHash: current.hash, queue: queueOpts, bansRestored: restored, controlPath: opts.controlPath }, 'vpsfw started');

  process.on('SIGHUP', () => void reload('SIGHUP').catch(() => undefined));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ event: 'stopping', signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  clearInterval(statsTimer);
  clearInterval(sweepTimer);
  queue.close();
  await logSources.stop();
  await closeControl(control, opts.controlPath).catch(() => undefined);
  await bans.save().catch((err) => log.error({ event: 'error', err }, 'cannot save bans'));
  await kernel.remove();
  await pcap?.close();
  log.info({ event: 'stop', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...engine.stats() }, 'vpsfw stopped');
}

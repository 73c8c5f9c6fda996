// `vpsfw run`: wires the pieces and owns the lifecycle. The only module that knows them all.
//   start: load policy → apply kernel rules (repairs leftovers) → restore bans → open queue → control socket
//   SIGHUP / `vpsfw reload`: new policy validated first; a bad one is logged and the old one keeps running
//   SIGTERM / SIGINT: stop reading, save bans, remove every rule and set we added, exit 0
import type { Server } from 'node:net';
import { join, resolve } from 'node:path';
import { allowlistMatcher } from './bans/allowlist.js';
import { ipsetBanKernel } from './bans/kernel-set.js';
import { jsonStateFile } from './bans/state-file.js';
import { BanStore, type BanSettings } from './bans/store.js';
import { closeControl, listenControl } from './control/server.js';
import type { Request } from './control/protocol.js';
import { DropSources } from './daemon/drop-sources.js';
import { EventLoopMonitor } from './daemon/event-loop.js';
import { makePacketHandler } from './daemon/packet-handler.js';
import { buildStatus } from './daemon/status.js';
import { Engine } from './engine/engine.js';
import { describeBy, type Verdict } from './engine/verdict.js';
import { PolicyInvalidError, UsageError, VpsfwError } from './errors.js';
import type { AgentHttp } from './http/agent-http.js';
import { formatListen, listenRefusal, type Listen } from './http/listen.js';
import { tokenPath } from './http/token.js';
import { KernelFirewall } from './kernel/apply.js';
import { realRunner } from './kernel/exec.js';
import { renderKernel } from './kernel/render.js';
import { LogLimiter } from './log/limiter.js';
import type { Logger } from './log/logger.js';
import type { EventFeed } from './log/tap.js';
import { openPcapFile } from './log/pcap.js';
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
  /** `--http ADDR:PORT`: the HTTP listener's address, over the policy's http.listen. */
  http?: Listen | undefined;
  /** The events the dashboard lists. */
  events?: EventFeed | undefined;
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
  const httpListen = (p: Policy) => opts.http ?? p.http.listen;
  const httpSettings = (p: Policy) => (httpListen(p) ? JSON.stringify({ listen: httpListen(p), allowFrom: p.http.allowFrom }) : 'off');
  const listen = httpListen(current.policy);
  const refusal = listen && listenRefusal(listen, current.policy.http.allowFrom);
  if (refusal) throw new UsageError(`--http ${formatListen(listen)}: ${refusal}`);
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
  const dropSources = new DropSources();
  const eventLoop = new EventLoopMonitor();
  const reloads = { accepted: 0, rejected: 0 };
  let http: AgentHttp | null = null;
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
      dropSources,
    }),
  );

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
      if (httpSettings(loaded.policy) !== httpSettings(current.policy)) {
        const err = new PolicyInvalidError(loaded.source, [{ path: 'http', message: 'the HTTP listener cannot change while running: restart the service', value: loaded.policy.http.listen && formatListen(loaded.policy.http.listen) }]);
        log.error({ event: 'reload-rejected', trigger: why, issues: err.issues, policyHash: current.hash }, err.message);
        throw err;
      }
      await kernel.apply(renderKernel(loaded.policy));
      engine.replacePolicy(loaded.policy);
      bans.updateSettings(banSettings(loaded.policy));
      log.level = loaded.policy.logging.level;
      log.info({ event: 'reload', trigger: why, policySource: loaded.source, policyHash: loaded.hash, previousHash: current.hash }, 'policy reloaded');
      current = loaded;
      return { policyHash: loaded.hash, source: loaded.source };
    });
    reloading = next.then(
      () => void reloads.accepted++,
      () => void reloads.rejected++,
    );
    return next;
  };

  const status = () => buildStatus({ version: VERSION, startedAt, policy: () => current, queue, engine: () => engine, bans, limiter, reloads, eventLoop, dropSources, http: () => http?.status ?? null });

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
  if (listen) {
    const { startAgentHttp } = await import('./http/agent-http.js');
    http = await startAgentHttp({
      listen,
      allowFrom: current.policy.http.allowFrom,
      tokenFile: tokenPath(resolve(opts.stateDir)),
      status,
      bans: () => bans.list(),
      policy: () => current.policy,
      events: opts.events,
      onError: (err, path) => log.error({ event: 'error', err, path }, `HTTP ${path} failed`),
    });
  }
  const control: Server = await listenControl(opts.controlPath, handle);

  const statsTimer = setInterval(() => log.info({ event: 'stats', ...status() }, 'stats'), current.policy.logging.statsInterval).unref();
  const sweepTimer = setInterval(() => {
    bans.sweep();
    engine.sweep();
  }, 5000).unref();

  log.info({ event: 'start', version: VERSION, pid: process.pid, policySource: current.source, policyHash: current.hash, queue: queueOpts, bansRestored: restored, controlPath: opts.controlPath, http: http?.status.listen ?? null }, 'vpsfw started');

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
  await http?.close();
  eventLoop.stop();
  queue.close();
  await closeControl(control, opts.controlPath).catch(() => undefined);
  await bans.save().catch((err) => log.error({ event: 'error', err }, 'cannot save bans'));
  await kernel.remove();
  await pcap?.close();
  log.info({ event: 'stop', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...engine.stats() }, 'vpsfw stopped');
}

#!/usr/bin/env node
// Prints one of vpsfw's two systemd units for an install prefix and a policy path, with the
// hardening from hardening.json and Node's flags from node-options.json (the files the NixOS module
// and package read too). Used by ubuntu/install.sh.
//   node unit.mjs rules --prefix /opt/vpsfw --policy /etc/vpsfw/policy.json   (vpsfw-rules.service)
//   node unit.mjs agent --prefix /opt/vpsfw --policy /etc/vpsfw/policy.json [--log-access FILE]   (vpsfw.service)
// Both run the release that PREFIX/current points at, on the Node.js it was built with
// (PREFIX/current/node): an upgrade switches that link, and the unit files stay as they are.
// --log-access FILE: the policy file (as the installer sees it) whose log sources the agent may read,
// and whose HTTP listener's clients it lets in (IPAddressAllow), nothing more.
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { prefix: { type: 'string' }, policy: { type: 'string' }, 'log-access': { type: 'string' } }, allowPositionals: true });
const which = positionals[0];
if ((which !== 'rules' && which !== 'agent') || !values.prefix || !values.policy) {
  process.stderr.write('usage: node unit.mjs rules|agent --prefix DIR --policy FILE [--log-access FILE]\n');
  process.exit(2);
}

const hardening = JSON.parse(readFileSync(new URL('./hardening.json', import.meta.url), 'utf8'));
const { flags, environment } = JSON.parse(readFileSync(new URL('./node-options.json', import.meta.url), 'utf8'));

/**
 * What the policy's log sources read, and nothing more: for a journal source the journal's group;
 * for a followed file its directory, read-only, and adm for one under /var/log (the group Debian
 * and Ubuntu give their logs, auth.log among them). Settings that add to hardening.json's.
 */
function logAccess(file) {
  if (!file || !existsSync(file)) return {};
  const sources = JSON.parse(readFileSync(file, 'utf8')).logSources ?? [];
  const groups = new Set();
  const dirs = new Set();
  for (const s of sources) {
    if (s.journal) groups.add('systemd-journal');
    if (s.file) {
      dirs.add(dirname(s.file));
      if (s.file.startsWith('/var/log/')) groups.add('adm');
    }
  }
  return {
    ...(groups.size ? { SupplementaryGroups: [...groups] } : {}),
    ...(dirs.size ? { ReadOnlyPaths: [...dirs] } : {}),
  };
}

/** The HTTP listener's clients (http.allowFrom; the schema's default: loopback) when the policy has a listener. */
function httpAccess(file) {
  if (!file || !existsSync(file)) return {};
  const http = JSON.parse(readFileSync(file, 'utf8')).http ?? {};
  return http.listen ? { IPAddressAllow: http.allowFrom ?? ['127.0.0.0/8', '::1/128'] } : {};
}

/** systemd's value syntax: booleans as yes/no, lists space-separated (one line per list item for filters). */
function lines(key, value) {
  if (key.startsWith('_')) return [];
  if (typeof value === 'boolean') return [`${key}=${value ? 'yes' : 'no'}`];
  if (Array.isArray(value)) return key === 'SystemCallFilter' ? value.map((v) => `${key}=${v}`) : [`${key}=${value.join(' ')}`];
  return [`${key}=${value}`];
}

const current = `${values.prefix}/current`;
const vpsfw = `${current}/node/bin/node ${flags.join(' ')} ${current}/bin/vpsfw.js`;
const common = (settings) => `Environment=${Object.entries(environment).map(([k, v]) => `${k}=${v}`).join(' ')}
StateDirectory=vpsfw
StateDirectoryMode=0700
${Object.entries(settings).flatMap(([k, v]) => lines(k, v)).join('\n')}`;
const header = `# Installed by vpsfw's install.sh; regenerated on every install. Hardening: agent/packaging/hardening.json.
[Unit]`;

const rules = `${header}
Description=vpsfw kernel rules: chains, jumps, sets and the saved bans
Documentation=file:${current}/docs/ubuntu.md
# It owns the kernel state. Pulled in by vpsfw.service, and stopped when nothing needs it any more
# (a real stop of the agent), which removes every vpsfw chain, jump and set; a restart or a crash of
# the agent leaves them in force.
StopWhenUnneeded=yes
# Early, with no default dependencies, but after the file systems, the journal, and the firewalls
# that load or flush rules at boot (netfilter-persistent restores its saved tables, ufw its chains,
# nftables.service's usual configuration begins with "flush ruleset"): vpsfw's jumps go in after
# theirs, first in their chains; before any interface comes up.
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service systemd-journald.socket netfilter-persistent.service ufw.service nftables.service
Before=network-pre.target shutdown.target
Wants=network-pre.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
# Atomic and idempotent: the same command applies a changed policy (systemctl reload vpsfw-rules).
ExecStart=${vpsfw} apply --policy ${values.policy}
ExecReload=${vpsfw} apply --policy ${values.policy}
ExecStop=${vpsfw} cleanup
${common(hardening)}
`;

const agent = `${header}
Description=vpsfw firewall and mini-IPS agent
Documentation=file:${current}/docs/ubuntu.md
Requires=vpsfw-rules.service
# Judging before services start listening (as NixOS' own firewall.service), early, so no default
# dependencies. (ssh.socket: Ubuntu 24.04 starts sshd by socket activation.)
DefaultDependencies=no
After=vpsfw-rules.service local-fs.target systemd-modules-load.service systemd-journald.socket
Before=network-pre.target shutdown.target ssh.service ssh.socket sshd.service
Wants=network-pre.target
Conflicts=shutdown.target

[Service]
Type=exec
# --keep-rules: on exit the kernel state stays, vpsfw-rules.service owns it.
ExecStart=${vpsfw} run --policy ${values.policy} --keep-rules
# "Started" means the agent judges: it opens its control socket last.
ExecStartPost=/bin/sh -c 'while [ ! -S /run/vpsfw/control.sock ]; do kill -0 $MAINPID || exit 1; sleep 0.1; done'
# Waits for the outcome: a refused policy fails the reload, and the running one stays.
ExecReload=${vpsfw} reload
Restart=always
RestartSec=1s
RuntimeDirectory=vpsfw
RuntimeDirectoryMode=0755
${common({ ...hardening, ...logAccess(values['log-access']), ...httpAccess(values['log-access']) })}

[Install]
WantedBy=multi-user.target
`;

process.stdout.write(which === 'rules' ? rules : agent);

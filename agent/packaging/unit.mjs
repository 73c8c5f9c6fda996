#!/usr/bin/env node
// Prints the vpsfw systemd unit for a given node binary, install prefix and policy path, with the
// hardening from hardening.json and Node's flags from node-options.json (the files the NixOS
// module and package read too). Used by ubuntu/install.sh.
//   node unit.mjs --node /usr/bin/node --prefix /opt/vpsfw --policy /etc/vpsfw/policy.json [--log-access FILE]
// --log-access FILE: the policy file (as the installer sees it) whose log sources the unit may read.
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { node: { type: 'string' }, prefix: { type: 'string' }, policy: { type: 'string' }, 'log-access': { type: 'string' } } });
for (const k of ['node', 'prefix', 'policy']) {
  if (!values[k]) {
    process.stderr.write(`unit.mjs: --${k} is required\n`);
    process.exit(2);
  }
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

/** systemd's value syntax: booleans as yes/no, lists space-separated (one line per list item for filters). */
function lines(key, value) {
  if (key.startsWith('_')) return [];
  if (typeof value === 'boolean') return [`${key}=${value ? 'yes' : 'no'}`];
  if (Array.isArray(value)) return key === 'SystemCallFilter' ? value.map((v) => `${key}=${v}`) : [`${key}=${value.join(' ')}`];
  return [`${key}=${value}`];
}

process.stdout.write(`# Installed by vpsfw's install.sh; regenerated on every install. Hardening: agent/packaging/hardening.json.
[Unit]
Description=vpsfw firewall and mini-IPS agent
Documentation=file:${values.prefix}/docs/ubuntu.md
# Rules in place before any interface comes up and before services start listening (as NixOS'
# own firewall.service): early, so no default dependencies, but after the file systems and the journal.
# (ssh.socket: Ubuntu 24.04 starts sshd by socket activation.)
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service systemd-journald.socket
Before=network-pre.target shutdown.target ssh.service ssh.socket sshd.service
Wants=network-pre.target
Conflicts=shutdown.target

[Service]
Type=exec
Environment=${Object.entries(environment).map(([k, v]) => `${k}=${v}`).join(' ')}
ExecStart=${values.node} ${flags.join(' ')} ${values.prefix}/bin/vpsfw.js run --policy ${values.policy}
# "Started" means the rules are in force: the agent opens its control socket last.
ExecStartPost=/bin/sh -c 'while [ ! -S /run/vpsfw/control.sock ]; do kill -0 $MAINPID || exit 1; sleep 0.1; done'
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=1s
StateDirectory=vpsfw
StateDirectoryMode=0700
RuntimeDirectory=vpsfw
RuntimeDirectoryMode=0755
${Object.entries({ ...hardening, ...logAccess(values['log-access']) }).flatMap(([k, v]) => lines(k, v)).join('\n')}

[Install]
WantedBy=multi-user.target
`);

#!/usr/bin/env node
// Prints the vpsfw systemd unit for a given node binary, install prefix and policy path, with the
// hardening from hardening.json and Node's flags from node-options.json (the files the NixOS
// module and package read too). Used by ubuntu/install.sh.
//   node unit.mjs --node /usr/bin/node --prefix /opt/vpsfw --policy /etc/vpsfw/policy.json [--root DIR]
// The policy is read (under --root, when the unit is for another root tree) for its HTTP
// listener: the unit lets the listener's clients in (IPAddressAllow), and nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { node: { type: 'string' }, prefix: { type: 'string' }, policy: { type: 'string' }, root: { type: 'string', default: '/' } } });
for (const k of ['node', 'prefix', 'policy']) {
  if (!values[k]) {
    process.stderr.write(`unit.mjs: --${k} is required\n`);
    process.exit(2);
  }
}

const hardening = JSON.parse(readFileSync(new URL('./hardening.json', import.meta.url), 'utf8'));
const { flags, environment } = JSON.parse(readFileSync(new URL('./node-options.json', import.meta.url), 'utf8'));

// The agent's own reading of the policy (agent/dist: install.sh builds the agent first).
const policyFile = join(values.root, values.policy);
const http = existsSync(policyFile) ? (await import('../dist/policy/load.js').then((m) => m.loadPolicy({ file: policyFile }))).policy.http : null;
const { unitIpAllow } = await import('../dist/http/listen.js');
const ipAllow = http?.listen ? [`# The HTTP listener's clients (policy http.allowFrom; docs/observability.md).`, `IPAddressAllow=${unitIpAllow(http.allowFrom).join(' ')}`] : [];

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
${[...Object.entries(hardening).flatMap(([k, v]) => lines(k, v)), ...ipAllow].join('\n')}

[Install]
WantedBy=multi-user.target
`);

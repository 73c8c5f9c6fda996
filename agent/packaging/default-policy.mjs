#!/usr/bin/env node
// The policy the installer writes when there is none: the built-in default (`vpsfw render --format
// policy`, on stdin), and, where OpenSSH is installed in ROOT, its journal followed for password
// guessing (docs/logsources.md). Used by ubuntu/install.sh.
//   vpsfw render --format policy | node default-policy.mjs ROOT
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? '/';
const policy = JSON.parse(readFileSync(0, 'utf8'));
if (['lib/systemd/system/ssh.service', 'usr/lib/systemd/system/ssh.service'].some((p) => existsSync(join(root, p)))) {
  policy.logSources = [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service', maxRetry: 5, findTime: '10m', ban: '1h' }];
}
process.stdout.write(JSON.stringify(policy, null, 2) + '\n');

#!/usr/bin/env node
// The installed entry point: the compiled CLI (npm ci builds it through `prepare`).
import('../agent/dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));

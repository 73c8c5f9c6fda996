#!/usr/bin/env node
// Writes docs/policy.md and docs/policy.schema.json from the compiled schema (`npm run docs`).
import { writeFileSync } from 'node:fs';
import { policyJsonSchema, policyReferenceMarkdown } from '../agent/dist/policy/reference.js';

const root = new URL('../docs/', import.meta.url);
writeFileSync(new URL('policy.md', root), policyReferenceMarkdown());
writeFileSync(new URL('policy.schema.json', root), JSON.stringify(policyJsonSchema(), null, 2) + '\n');

#!/usr/bin/env node
// swarmup's command line: the compiled JavaScript in dist/ (built by `npm run build`, which npm's `prepare` runs on
// `npm ci`, `npm install` and a git install). No TypeScript compiler is loaded at start; `swarmup run FILE.ts`
// registers tsx itself, for that playbook only (src/playbook/load.ts).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('swarmup: dist/ is missing: run `npm run build` in this copy of swarmup\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);

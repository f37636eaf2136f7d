#!/usr/bin/env node
// swarmup's command line. Runs the TypeScript sources directly through tsx's loader, which also lets
// `swarmup run FILE.ts` load user playbooks written in TypeScript on Node 20.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);

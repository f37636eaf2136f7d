#!/usr/bin/env node
// swarmup's command line. Runs the TypeScript sources directly through tsx's loader, which also lets
// `swarmup run FILE.ts` load user playbooks written in TypeScript on Node 20. A playbook anywhere on disk may
// `import { definePlaybook } from 'swarmup'`: that specifier resolves to this copy of swarmup.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

const library = new URL('../src/index.ts', import.meta.url).href;
registerHooks(
  'data:text/javascript,' +
    encodeURIComponent(
      `export async function resolve(specifier, context, next) {
         if (specifier === 'swarmup') return { url: ${JSON.stringify(library)}, shortCircuit: true };
         return next(specifier, context);
       }`,
    ),
);
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);

import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.ts';
import type { Playbook } from './playbook.ts';

/** Extensions tsx compiles (Node 20 runs no TypeScript by itself). */
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);
let hooked = false;
let tsx = false;

/**
 * What a user playbook needs before it is imported, set up once and only by `swarmup run`: the `swarmup` specifier
 * resolving to this copy of swarmup (its compiled dist/src/index.js, or src/index.ts when the sources themselves
 * run), and tsx's loader for a playbook written in TypeScript. No other command pays for either.
 */
async function prepareLoader(file: string): Promise<void> {
  if (!hooked) {
    // This module's own extension tells which copy runs: dist/src/playbook/load.js or src/playbook/load.ts.
    const library = new URL(`../index${extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;
    registerHooks(
      'data:text/javascript,' +
        encodeURIComponent(
          `export async function resolve(specifier, context, next) {
             if (specifier === 'swarmup') return { url: ${JSON.stringify(library)}, shortCircuit: true };
             return next(specifier, context);
           }`,
        ),
    );
    hooked = true;
  }
  if (!tsx && TYPESCRIPT.has(extname(file))) {
    // Registered after the hook above, so tsx's resolver runs first and hands `swarmup` on to it.
    (await import('tsx/esm/api')).register();
    tsx = true;
  }
}

/** Load a playbook file (.ts works on Node 20: tsx's loader is registered for it here). */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const path = resolve(file);
  if (!existsSync(path)) throw new InputError(`${file}: no such playbook file`);
  await prepareLoader(path);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (err) {
    const why = (err as Error).message.split('\n')[0] ?? '';
    // A .ts file in a folder without "type": "module" is compiled as CommonJS, where `import ... from 'swarmup'`
    // cannot be served.
    const hint = /require\(\)|Cannot find (module|package) 'swarmup'/.test(why)
      ? ' (a playbook is an ES module: name it .mts, or add {"type": "module"} to a package.json beside it)'
      : '';
    throw new InputError(`${file}: cannot load playbook: ${why}${hint}`);
  }
  const pb = mod.default as Playbook | undefined;
  if (!pb || typeof pb.run !== 'function' || typeof pb.name !== 'string') {
    throw new InputError(`${file}: the default export must be definePlaybook({ name, run })`);
  }
  return pb;
}

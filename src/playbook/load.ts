import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.ts';
import type { Playbook } from './playbook.ts';

/** Load a playbook file (.ts works on Node 20: the swarmup binary registers tsx's loader). */
export async function loadPlaybook(file: string): Promise<Playbook> {
  const path = resolve(file);
  if (!existsSync(path)) throw new InputError(`${file}: no such playbook file`);
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

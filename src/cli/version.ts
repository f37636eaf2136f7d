import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This copy's version, from its package.json: the nearest one above this module, which is two folders up from the
 * sources (src/cli) and three from the compiled code (dist/src/cli). Read as text, with no JSON import, so that
 * `swarmup --version` loads nothing more.
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'swarmup' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * Where the config file's JSON Schema shipped with this version (schema/config.schema.json) is served: the npm
 * package's own file, through unpkg. The files the wizard writes name it in their `yaml-language-server` line.
 */
export function configSchemaUrl(version: string = packageVersion()): string {
  return `https://unpkg.com/swarmup@${version}/schema/config.schema.json`;
}

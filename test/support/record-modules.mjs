// Preloaded with `node --import` (NODE_OPTIONS) by test/unit/cli-startup.test.ts: appends to the file named by
// SWARMUP_TEST_MODULES every module the process loads. ES modules (and the entry of every CommonJS package an ES
// module imports) are seen by a load hook; CommonJS modules by require's cache, read when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.SWARMUP_TEST_MODULES;
if (out) {
  const hook = `
    import { appendFileSync } from 'node:fs';
    let out;
    export function initialize(data) { out = data.out; }
    export async function load(url, context, next) {
      appendFileSync(out, url + '\\n');
      return next(url, context);
    }`;
  register('data:text/javascript,' + encodeURIComponent(hook), { data: { out } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).join('\n') + '\n'));
}

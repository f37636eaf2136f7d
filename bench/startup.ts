/**
 * The start-up part of `npm run bench`: how long the command line takes before it does anything. `node -e 0` (Node
 * itself) beside `swarmup --version` and `swarmup --help` through the bin, run as an installed `swarmup` is (the
 * executable bin/swarmup.mjs, over the compiled dist/). RUNS (default 10) of each; median, range and the difference
 * from bare Node. `BENCH_STARTUP=0` skips it.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../bin/swarmup.mjs');

function timeOnce(command: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

export async function startupBench(runs = Number(process.env.RUNS ?? 10)): Promise<void> {
  const cases: Array<[string, string, string[]]> = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['swarmup --version', BIN, ['--version']],
    ['swarmup --help', BIN, ['--help']],
  ];
  for (const [, command, args] of cases) timeOnce(command, args); // warm the file cache
  const times = cases.map(([, command, args]) => Array.from({ length: runs }, () => timeOnce(command, args)));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const bare = median(times[0]!);
  console.log(`\nstart-up through the bin (median of ${runs}, range):`);
  console.log('| command | median | range | over node -e 0 |');
  cases.forEach(([label], i) => {
    const xs = times[i]!;
    const over = i === 0 ? '' : `+${s(median(xs) - bare)}`;
    console.log(`| ${label} | ${s(median(xs))} | ${s(Math.min(...xs))}–${s(Math.max(...xs))} | ${over} |`);
  });
}

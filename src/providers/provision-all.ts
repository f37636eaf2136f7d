import type { Machine, Provider, ProgressSink } from './provider.ts';

/**
 * Make every wanted machine exist and run, outside of a cluster plan: for tests and the benchmark, which need
 * machines to work on. (`up` does the same through the plan's machine actions.)
 */
export async function provisionAll(
  provider: Provider,
  progress: ProgressSink = () => undefined,
): Promise<{ machines: Machine[]; created: number }> {
  const listing = new Map((await provider.list()).map((m) => [m.name, m]));
  const wanted = provider.wanted();
  const create = wanted.filter((n) => !listing.has(n.name) || listing.get(n.name)!.state === 'failed');
  const start = wanted.filter((n) => listing.get(n.name)?.state === 'stopped');
  if (create.length + start.length > 0) await provider.prepare(progress);
  await Promise.all([
    ...create.map((n) => provider.create(n, progress)),
    ...start.map((n) => provider.start(n.name, progress)),
  ]);
  const machines = await provider.reach(
    wanted.map((n) => n.name),
    progress,
  );
  return { machines, created: create.length + start.length };
}

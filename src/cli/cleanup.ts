import { ExitCode, InputError } from '../errors.ts';
import { redact } from '../redact.ts';
import { StateStore } from '../state/store.ts';
import { confirm } from './confirm.ts';

export interface CleanupFlags {
  provider: string;
  region?: string;
  allRegions?: boolean;
  profile?: string;
  name?: string;
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
}

interface Found {
  where: string;
  cluster: string;
  summary: string;
  selected: boolean;
}

/**
 * `swarmup cleanup`: list everything labelled (docker) or tagged (ec2) by swarmup, grouped by cluster; delete the
 * clusters that have no local state (orphans), or the one named. Never an unlabelled or untagged resource.
 */
export async function cleanup(opts: CleanupFlags): Promise<number> {
  const started = Date.now();
  const out = (obj: object, text: string) =>
    process.stdout.write((opts.json ? JSON.stringify(obj) : text) + '\n');
  const line = (f: Found) => `${f.selected ? '*' : ' '} ${f.where}  ${f.cluster}: ${f.summary}`;
  const hasLocalState = (cluster: string) => new StateStore(cluster).exists();
  const ask = async (selected: Found[]): Promise<boolean> => {
    if (!opts.json) process.stdout.write(`deleting:\n${selected.map(line).join('\n')}\n`);
    if (opts.yes) return true;
    if (!process.stdin.isTTY)
      throw new InputError(
        'cleanup deletes the resources listed: pass --yes to confirm (stdin is not a terminal)',
      );
    return confirm(`delete the resources of ${selected.length} cluster${selected.length === 1 ? '' : 's'}?`);
  };
  const progress = (m: string) =>
    opts.json ? out({ event: 'log', message: m }, '') : process.stderr.write(`${m}\n`);
  try {
    let found: Found[] = [];
    let removed: string[] = [];
    if (opts.provider === 'docker') {
      if (opts.region || opts.allRegions || opts.profile)
        throw new InputError('--region, --all-regions and --profile are for --provider ec2');
      const Docker = (await import('dockerode')).default;
      const { describeLabelled, listLabelled, removeLabelled } =
        await import('../providers/docker/cleanup.ts');
      const docker = new Docker();
      const groups = [...(await listLabelled(docker, opts.name)).values()];
      found = groups.map((g) => ({
        where: 'local engine',
        cluster: g.cluster,
        summary: describeLabelled(g),
        selected: opts.name ? g.cluster === opts.name : !hasLocalState(g.cluster),
      }));
      const selected = found.filter((f) => f.selected);
      if (!opts.dryRun && selected.length > 0 && (await ask(selected))) {
        for (const f of selected) {
          progress(`removing cluster ${f.cluster}`);
          const r = await removeLabelled(
            docker,
            groups.find((g) => g.cluster === f.cluster)!,
          );
          removed.push(...r.map((x) => `${f.cluster}: ${x}`));
        }
      }
    } else if (opts.provider === 'ec2') {
      const { cleanupEc2, summarize } = await import('../providers/ec2/cleanup.ts');
      const result = await cleanupEc2(
        {
          ...(opts.region ? { region: opts.region } : {}),
          allRegions: !!opts.allRegions,
          ...(opts.profile ? { profile: opts.profile } : {}),
          ...(opts.name ? { name: opts.name } : {}),
          dryRun: !!opts.dryRun,
        },
        {
          hasLocalState,
          progress,
          confirm: (selected) =>
            ask(
              selected.map((s) => ({
                where: s.region,
                cluster: s.resources.cluster,
                summary: summarize(s.resources),
                selected: true,
              })),
            ),
        },
      );
      found = result.found.map((f) => ({
        where: f.region,
        cluster: f.resources.cluster,
        summary: summarize(f.resources),
        selected: f.selected,
      }));
      removed = result.removed;
    } else {
      throw new InputError(
        `cleanup: --provider ${opts.provider}: nothing to clean (docker and ec2 create resources)`,
      );
    }
    for (const f of found) out({ event: 'cluster', ...f }, line(f));
    if (found.length === 0)
      out(
        { event: 'log', message: 'nothing labelled by swarmup found' },
        'nothing labelled by swarmup found',
      );
    for (const r of removed) out({ event: 'removed', what: r }, `removed ${r}`);
    if (opts.name && !opts.dryRun && removed.length > 0) new StateStore(opts.name).remove();
    out(
      { event: 'summary', changes: removed.length, durationMs: Date.now() - started, nodes: [] },
      opts.dryRun
        ? '(dry run: nothing deleted; * marks what would be)'
        : `${removed.length} resources removed`,
    );
    return ExitCode.ok;
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    process.stderr.write(`swarmup: ${redact(e.message)}\n`);
    return e.exitCode ?? ExitCode.stepFailed;
  }
}

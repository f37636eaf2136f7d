import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../config/names.ts';
import { ExitCode, InputError } from '../errors.ts';
import type { CleanupFound } from '../providers/descriptor.ts';
import { redact } from '../redact.ts';
import { providerNamed, providerRegistry } from '../providers/registry.ts';
import { ClusterLock } from '../state/lock.ts';
import { readOwner, recordDescribes } from '../state/owner.ts';
import { StateStore } from '../state/store.ts';
import { confirm } from '../playbook/confirm.ts';
import { hintContext, hintFor } from './hints.ts';

export interface CleanupFlags {
  provider: string;
  region?: string;
  allRegions?: boolean;
  profile?: string;
  dockerContext?: string;
  name?: string;
  anyOwner?: boolean;
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
}

type Found = CleanupFound;

/** Whose the resources are, as the listing says it. */
export function ownerText(owner: string | undefined, mine: string | undefined): string {
  if (owner === undefined) return 'no owner: made by an older swarmup';
  return owner === mine ? `owner ${owner}: this state home` : `owner ${owner}: another state home`;
}

/**
 * `swarmup cleanup`: list everything labelled (docker) or tagged (ec2) by swarmup, grouped by cluster and owner;
 * delete this state home's clusters that have no local state (orphans), or the one named; of every owner (and of
 * none) with --any-owner. Never an unlabelled or untagged resource. Each cluster deleted is locked (ClusterLock)
 * while it goes; the named cluster's record goes only when what was deleted is what it describes (recordDescribes)
 * and a second listing shows none of it left.
 */
export async function cleanup(opts: CleanupFlags): Promise<number> {
  const started = Date.now();
  const out = (obj: object, text: string) =>
    process.stdout.write((opts.json ? JSON.stringify(obj) : text) + '\n');
  // This home's owner id, read (never made: cleanup creates nothing). None yet: no orphan is this home's.
  let mine: string | undefined;
  const line = (f: Found) =>
    `${f.selected ? '*' : ' '} ${f.where}  ${f.cluster}: ${f.summary}  [${ownerText(f.owner, mine)}]`;
  const hasLocalState = (cluster: string) => new StateStore(cluster).exists();
  const ask = async (selected: Found[]): Promise<boolean> => {
    if (!opts.json)
      process.stdout.write(
        `deleting${opts.anyOwner && !opts.name ? ' (orphans of every owner: --any-owner)' : ''}:\n${selected.map(line).join('\n')}\n`,
      );
    if (opts.yes) return true;
    if (!process.stdin.isTTY)
      throw new InputError(
        'cleanup deletes the resources listed: pass --yes to confirm (stdin is not a terminal)',
      );
    return confirm(`delete the resources of ${selected.length} cluster${selected.length === 1 ? '' : 's'}?`);
  };
  // Taken once the deletion is confirmed, before anything goes; given back when cleanup ends.
  const locks: ClusterLock[] = [];
  const lockAll = (selected: Found[]) => {
    for (const cluster of [...new Set(selected.map((f) => f.cluster))]) {
      const store = new StateStore(cluster);
      locks.push(ClusterLock.acquire(store.dir, cluster, 'cleanup'));
      // An orphan of this home that got a record meanwhile (an `up` that ended just now) is no orphan any more.
      if (!opts.name && store.exists())
        throw new InputError(
          `cleanup: cluster ${cluster} has local state now (made meanwhile): nothing deleted; run cleanup again`,
        );
    }
  };
  const progress = (m: string) =>
    opts.json ? out({ event: 'log', message: m }, '') : process.stderr.write(`${m}\n`);
  try {
    mine = readOwner();
    if (opts.name !== undefined && !CLUSTER_NAME.test(opts.name))
      throw new InputError(`--name: "${opts.name}": ${CLUSTER_NAME_RULE}`);
    const descriptor = providerNamed(opts.provider);
    if (!descriptor.cleanup)
      throw new InputError(
        `cleanup: --provider ${opts.provider}: nothing to clean (it creates no resources; ${providerRegistry
          .filter((p) => p.cleanup)
          .map((p) => p.name)
          .join(' and ')} do)`,
      );
    const request = (dryRun: boolean) => ({
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.anyOwner ? { anyOwner: true } : {}),
      ...(mine ? { owner: mine } : {}),
      dryRun,
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.allRegions ? { allRegions: true } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.dockerContext ? { dockerContext: opts.dockerContext } : {}),
      hasLocalState,
      progress,
    });
    const { found, removed } = await descriptor.cleanup({
      ...request(!!opts.dryRun),
      confirm: async (selected) => {
        if (!(await ask(selected))) return false;
        lockAll(selected);
        return true;
      },
    });
    if (opts.name && found.length > 0) {
      const m = opts.anyOwner
        ? `--name ${opts.name} --any-owner: selected whatever its owner`
        : `--name ${opts.name}: only this state home's (--any-owner selects every owner's)`;
      out({ event: 'log', message: m }, m);
    }
    for (const f of found)
      out(
        {
          event: 'cluster',
          where: f.where,
          cluster: f.cluster,
          summary: f.summary,
          ...(f.owner !== undefined ? { owner: f.owner } : {}),
          selected: f.selected,
          mine: f.owner !== undefined && f.owner === mine,
        },
        line(f),
      );
    const spared = opts.anyOwner
      ? []
      : found.filter((f) => !f.selected && (opts.name !== undefined || !hasLocalState(f.cluster)));
    if (spared.length > 0) {
      const what = opts.name
        ? `group${spared.length === 1 ? '' : 's'} of ${opts.name}`
        : `orphan${spared.length === 1 ? '' : 's'}`;
      const m = `${spared.length} ${what} of another owner (or of none) not selected: --any-owner selects ${spared.length === 1 ? 'it' : 'them'}`;
      out({ event: 'log', message: m }, m);
    }
    if (found.length === 0)
      out(
        { event: 'log', message: 'nothing labelled by swarmup found' },
        'nothing labelled by swarmup found',
      );
    for (const r of removed) out({ event: 'removed', what: r }, `removed ${r}`);
    if (opts.name && !opts.dryRun && removed.length > 0) {
      const m = await forgetIfProven(
        opts.provider,
        opts.name,
        found,
        mine,
        async () => (await descriptor.cleanup!({ ...request(true), confirm: async () => false })).found,
      );
      out({ event: 'log', message: m }, m);
    }
    out(
      { event: 'summary', changes: removed.length, durationMs: Date.now() - started, nodes: [], ok: true },
      opts.dryRun
        ? '(dry run: nothing deleted; * marks what would be)'
        : `${removed.length} resources removed`,
    );
    return ExitCode.ok;
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    process.stderr.write(`swarmup: ${redact(e.message)}\n`);
    const hint = hintFor(err, hintContext(opts, process.env));
    if (hint) process.stderr.write(`swarmup: hint: ${redact(hint)}\n`);
    return e.exitCode ?? ExitCode.stepFailed;
  } finally {
    for (const l of locks) l.release();
  }
}

/**
 * After `cleanup --name` deleted something: the cluster's record here (its state folder: the only SSH key, the
 * unlock key, the backups) goes only when a deleted group is the one it describes (recordDescribes: same provider,
 * region or engine, this home's owner) and a second listing finds none of that group left. Says which, and why.
 */
async function forgetIfProven(
  provider: string,
  cluster: string,
  found: Found[],
  mine: string | undefined,
  listAgain: () => Promise<Found[]>,
): Promise<string> {
  const store = new StateStore(cluster);
  const record = store.read();
  if (!record) return `no record of ${cluster} here to remove`;
  const describes = (f: Found) =>
    recordDescribes(
      record,
      {
        provider,
        ...(f.region !== undefined ? { region: f.region } : {}),
        ...(f.endpoint !== undefined ? { endpoint: f.endpoint } : {}),
        ...(f.owner !== undefined ? { owner: f.owner } : {}),
      },
      mine,
    );
  const deleted = found.filter((f) => f.selected && f.cluster === cluster);
  const verdicts = deleted.map(describes);
  if (!verdicts.some((v) => v.ok)) {
    const why = verdicts.flatMap((v) => (v.ok ? [] : [v.why]));
    return `the record of ${cluster} in ${store.dir} is kept: what was deleted is not the cluster it describes (${[...new Set(why)].join('; ')})`;
  }
  const left = (await listAgain()).filter((f) => f.cluster === cluster && describes(f).ok);
  if (left.length > 0)
    return `the record of ${cluster} in ${store.dir} is kept: still there after the deletion: ${left.map((f) => `${f.where} ${f.summary}`).join('; ')}`;
  store.remove();
  return `removed the record of ${cluster} (${store.dir})`;
}

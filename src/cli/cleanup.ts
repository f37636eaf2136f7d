import { CLUSTER_NAME, CLUSTER_NAME_RULE } from '../config/names.ts';
import { ExitCode, InputError } from '../errors.ts';
import type { CleanupFound } from '../providers/descriptor.ts';
import { redact } from '../redact.ts';
import { providerNamed, providerRegistry } from '../providers/registry.ts';
import { readOwner } from '../state/owner.ts';
import { StateStore } from '../state/store.ts';
import { confirm } from './confirm.ts';
import { hintContext, hintFor } from './hints.ts';

export interface CleanupFlags {
  provider: string;
  region?: string;
  allRegions?: boolean;
  profile?: string;
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
 * delete the clusters that have no local state (orphans) and belong to this state home's owner (any owner with
 * --any-owner), or the one named (whatever its owner). Never an unlabelled or untagged resource.
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
    const { found, removed } = await descriptor.cleanup({
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.anyOwner ? { anyOwner: true } : {}),
      ...(mine ? { owner: mine } : {}),
      dryRun: !!opts.dryRun,
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.allRegions ? { allRegions: true } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      hasLocalState,
      progress,
      confirm: ask,
    });
    if (opts.name && found.length > 0)
      out(
        { event: 'log', message: `--name ${opts.name}: selected whatever its owner` },
        `--name ${opts.name}: selected whatever its owner`,
      );
    for (const f of found)
      out({ event: 'cluster', ...f, mine: f.owner !== undefined && f.owner === mine }, line(f));
    const spared =
      opts.name || opts.anyOwner ? [] : found.filter((f) => !f.selected && !hasLocalState(f.cluster));
    if (spared.length > 0) {
      const m = `${spared.length} orphan${spared.length === 1 ? '' : 's'} of another owner (or of none) not selected: --any-owner selects ${spared.length === 1 ? 'it' : 'them'}`;
      out({ event: 'log', message: m }, m);
    }
    if (found.length === 0)
      out(
        { event: 'log', message: 'nothing labelled by swarmup found' },
        'nothing labelled by swarmup found',
      );
    for (const r of removed) out({ event: 'removed', what: r }, `removed ${r}`);
    if (opts.name && !opts.dryRun && removed.length > 0) new StateStore(opts.name).remove();
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
  }
}

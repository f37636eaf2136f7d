import { execa } from 'execa';
import { join } from 'node:path';
import type { CliResult } from './cli.ts';

/** The durable-cluster e2e files' shared reads: a cluster's state record, and the actions a run applied. */

/** The cluster's state record as swarmup wrote it (read as a user would, with cat). */
export const stateOf = async (home: string, cluster: string) =>
  JSON.parse((await execa('cat', [join(home, cluster, 'state.json')])).stdout) as {
    clusterId?: string;
    stoppedAt?: string;
  };

/** The actions a `--json` run applied (status ok), of one kind or all. */
export const actions = (r: CliResult, kind?: string) =>
  r.events.filter((e) => e.event === 'action' && e.status === 'ok' && (!kind || e.kind === kind));

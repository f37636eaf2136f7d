import { inNode, swarmup, tempHome, type CliResult } from './cli.ts';
import { waitUntil } from './wait.ts';

/**
 * One cluster of node containers per e2e file (or describe block): its names carry the run id, so two runs on one
 * engine, and two files of one run, never touch each other's machines. The file brings it up in its own
 * `beforeAll` (each needs another shape: a config, autolock, a size) and takes it down in `afterAll`.
 */
export interface ClusterFixture {
  /** `<prefix>-<run id>`: the cluster's name, and the prefix of its node containers. */
  name: string;
  /** A SWARMUP_HOME of the cluster's own. */
  home: string;
  env: Record<string, string>;
  /** Every result of `run`, in order (for the files that check no secret was ever printed). */
  outputs: CliResult[];
  /** swarmup with these arguments and `--name <name>`, in the cluster's home. */
  run: (...args: string[]) => Promise<CliResult>;
  /** The node container of a node: `node('manager-1')`. */
  node: (short: string) => string;
  /** `docker node ls` as read inside a node (manager-1 unless said): hostname, status, manager status per node. */
  nodeLs: (from?: string) => Promise<NodeLsRow[]>;
  /** The hostname the managers name as leader (the first manager that answers is asked). */
  leader: () => Promise<string>;
}

export interface NodeLsRow {
  hostname: string;
  status: string;
  /** Leader, Reachable, Unreachable, or '' for a worker. */
  manager: string;
}

/** The run id: the test process's pid (each vitest worker is its own process). */
export const RUN_ID = String(process.pid);

export function clusterFixture(prefix: string, opts: { managers?: number } = {}): ClusterFixture {
  const name = `${prefix}-${RUN_ID}`;
  const home = tempHome();
  const env = { SWARMUP_HOME: home };
  const outputs: CliResult[] = [];
  const node = (short: string) => `${name}-${short}`;
  const managers = Array.from({ length: opts.managers ?? 3 }, (_, i) => node(`manager-${i + 1}`));
  const nodeLs = async (from = node('manager-1')): Promise<NodeLsRow[]> => {
    const out = await inNode(from, [
      'docker',
      'node',
      'ls',
      '--format',
      '{{.Hostname}}|{{.Status}}|{{.ManagerStatus}}',
    ]);
    return out.split('\n').map((l) => {
      const [hostname, status, manager] = l.split('|');
      return { hostname: hostname!, status: status!, manager: manager ?? '' };
    });
  };
  const leader = () =>
    waitUntil(
      `a manager of ${name} to name its leader`,
      60_000,
      async (seen) => {
        for (const m of managers) {
          try {
            const l = (await nodeLs(m)).find((r) => r.manager === 'Leader');
            if (l) return l.hostname;
          } catch (err) {
            seen(`${m}: ${String(err)}`); // this manager does not answer: ask the next
          }
        }
        return undefined;
      },
      500,
    );
  return {
    name,
    home,
    env,
    outputs,
    node,
    nodeLs,
    leader,
    run: async (...args: string[]) => {
      const r = await swarmup([...args, '--name', name], env);
      outputs.push(r);
      return r;
    },
  };
}

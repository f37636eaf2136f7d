import { z } from 'zod';

/**
 * The shapes of swarmup's `--json` output (design.md "Names others rely on"), as schemas: what scripts may rely on.
 * The one source of them: the TypeScript event types (src/playbook/events.ts) are inferred from these, and
 * `swarmup schema events` prints them as JSON Schema (src/cli/schemas.ts). Not loaded by the commands that print
 * events (zod costs start-up time); the tests validate every line the commands print against these, and users may
 * import them from `swarmup` to do the same.
 */

const role = z.enum(['manager', 'worker']);
const host = z.string().min(1);
const nodeId = z.string().min(1);

/** One node as `docker node ls` reads it. */
export const nodeRowSchema = z.strictObject({
  name: z.string().min(1),
  role,
  state: z.string().min(1),
  availability: z.string().min(1),
  leader: z.boolean(),
  reachability: z.string().nullable(),
  engineVersion: z.string(),
});

/** The fields of each kind of action of the cluster plan (src/swarm/actions.ts), with its one-line description. */
const actionShapes = [
  { kind: z.literal('create-machine'), host, role },
  { kind: z.literal('start-machine'), host },
  { kind: z.literal('remove-machine'), host },
  { kind: z.literal('engine'), host, steps: z.array(z.string()) },
  { kind: z.literal('leave'), host, reason: z.string() },
  {
    kind: z.literal('init'),
    host,
    defaultAddrPool: z.array(z.string().min(1)).optional(),
    subnetSize: z.number().int().optional(),
    dataPathPort: z.number().int().optional(),
    dataPathAddr: z.string().optional(),
  },
  {
    kind: z.literal('remove-node'),
    nodeId,
    hostname: z.string(),
    demoteFirst: z.boolean(),
    reason: z.string(),
  },
  { kind: z.literal('join'), host, role, dataPathAddr: z.string().optional() },
  { kind: z.literal('promote'), host, nodeId },
  { kind: z.literal('demote'), host, nodeId },
  { kind: z.literal('drain'), host, nodeId },
  { kind: z.literal('autolock'), enable: z.boolean() },
  {
    kind: z.literal('remove-smoke'),
    manager: host.optional(),
    hosts: z.array(host),
    found: z.array(z.string().min(1)),
  },
  { kind: z.literal('rotate-tokens'), tokens: z.enum(['worker', 'manager']).optional() },
  { kind: z.literal('unlock'), host },
  { kind: z.literal('rotate-unlock-key') },
  { kind: z.literal('upgrade-engine'), host, role, from: z.string(), to: z.string().min(1) },
] as const;

type Shape = (typeof actionShapes)[number];
const withFields = <E extends z.ZodRawShape>(extra: E) =>
  actionShapes.map((shape: Shape) => z.strictObject({ ...shape, description: z.string().min(1), ...extra }));

export const actionSchema = z.discriminatedUnion('kind', withFields({}) as never) as z.ZodType<
  { kind: string; description: string } & Record<string, unknown>
>;

const actionEventSchema = z.discriminatedUnion(
  'kind',
  withFields({ event: z.literal('action'), status: z.enum(['ok', 'failed']) }) as never,
) as z.ZodType<{ event: 'action' } & Record<string, unknown>>;

const problem = z.strictObject({ host: z.string(), message: z.string() });

export const planEventSchema = z.strictObject({
  event: z.literal('plan'),
  revised: z.boolean().optional(),
  phases: z.array(
    z.strictObject({
      stage: z.enum(['provision', 'engine', 'swarm']),
      title: z.string().min(1),
      mode: z.enum(['serial', 'parallel']),
      actions: z.array(actionSchema),
    }),
  ),
  problems: z.array(problem),
  /** The swarm's default address pool: the one init is given (chosen, configured) or the existing swarm's own. */
  addrPool: z
    .strictObject({
      pool: z.array(z.string().min(1)),
      subnetSize: z.number().int(),
      source: z.enum(['given', 'chosen', 'recorded', 'swarm']),
      seen: z.number().int().nonnegative(),
      description: z.string().min(1),
    })
    .optional(),
  /** Worth saying, not refusing: a configured pool overlapping a network seen; an init setting a swarm cannot change. */
  notices: z.array(z.string()).optional(),
  /** The swarm part waits for these hosts (machines or engines started first, managers electing a leader). */
  deferred: z.array(z.string().min(1)).optional(),
  /** Providers that can ask (EC2's DryRun): may these credentials make each change? */
  permissions: z
    .array(
      z.strictObject({
        action: z.string().min(1),
        call: z.string().min(1),
        status: z.enum(['allowed', 'denied', 'not-checkable']),
        how: z.enum(['dry-run', 'by-use']),
        note: z.string().optional(),
      }),
    )
    .optional(),
});

const logEvent = z.strictObject({
  event: z.literal('log'),
  host: z.string().optional(),
  message: z.string(),
});
const errorEvent = z.strictObject({
  event: z.literal('error'),
  message: z.string().min(1),
  exitCode: z.number().int(),
  /** One line of advice for the common failures (src/cli/hints.ts), also printed as `swarmup: hint: ...`. */
  hint: z.string().min(1).optional(),
});
const summaryEvent = z.strictObject({
  event: z.literal('summary'),
  changes: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  nodes: z.array(nodeRowSchema),
  ok: z.boolean(),
  problems: z.array(z.string()).optional(),
});

const counts = z.strictObject({
  checked: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
});
/** `verify --smoke` and `up --smoke`: the data-plane test's outcome (after its step and task events). */
export const smokeEventSchema = z.strictObject({
  event: z.literal('smoke'),
  ok: z.boolean(),
  runId: z.string().min(1),
  durationMs: z.number().nonnegative(),
  publishedPort: z.number().int().positive(),
  overlay: counts,
  published: counts,
  failures: z.array(
    z.strictObject({
      from: z.string().min(1),
      to: z.string().min(1),
      via: z.enum(['overlay', 'published']),
      error: z.string(),
    }),
  ),
  problems: z.array(z.string()),
});

/** `down --dry-run --json`: what `down` would remove (src/cli/down-preview.ts), the terminal preview's facts. */
export const removalSchema = z.strictObject({
  event: z.literal('removal'),
  cluster: z.string().min(1),
  /** Where the provider looks (an engine endpoint, an EC2 region), as it says it. */
  location: z.string(),
  createsMachines: z.boolean(),
  /** Created machines: what the provider's removeAll would remove, one line per kind. */
  resources: z.array(z.string()),
  /** Machines of the user's (ssh): the hosts swarmup joined, which leave the swarm. */
  leaving: z.array(z.string()),
  /** The docker context `up` made for the cluster, when there is one of ours. */
  context: z.string().min(1).optional(),
  /** The cluster's state folder, when it exists. */
  stateDir: z.string().min(1).optional(),
  /** The backup archives of the state folder: kept (moved to `keptUnder`) or deleted with it (`--delete-backups`). */
  backups: z
    .strictObject({
      files: z.number().int().positive(),
      dir: z.string().min(1),
      keptUnder: z.string().min(1).optional(),
    })
    .optional(),
});

/** One line of `up`, `down`, `plan`, `scale`, `recover`, `engine`, `verify` and `run` with `--json`. */
export const eventSchema = z.union([
  z.strictObject({
    event: z.literal('step'),
    step: z.string().min(1),
    status: z.enum(['start', 'ok', 'failed']),
    hosts: z.array(z.string()).optional(),
    durationMs: z.number().nonnegative().optional(),
    error: z.string().optional(),
  }),
  z.strictObject({
    event: z.literal('task'),
    step: z.string().min(1),
    task: z.string(),
    status: z.enum(['ok', 'failed']),
    error: z.string().optional(),
  }),
  logEvent,
  z.strictObject({ event: z.literal('problem'), host: z.string(), message: z.string() }),
  planEventSchema,
  actionEventSchema,
  z.strictObject({
    event: z.literal('backup'),
    node: z.string().min(1),
    file: z.string().min(1),
    bytes: z.number().int().positive(),
    autolock: z.boolean(),
  }),
  /** `down`: what became of the cluster's backups, kept (in that folder) or deleted (`--delete-backups`). */
  z.strictObject({
    event: z.literal('backups'),
    files: z.number().int().positive(),
    keptIn: z.string().min(1).optional(),
    deleted: z.literal(true).optional(),
  }),
  z.strictObject({
    event: z.literal('diagnose'),
    file: z.string().min(1),
    nodes: z.number().int().positive(),
  }),
  errorEvent,
  summaryEvent,
  smokeEventSchema,
  removalSchema,
]);

/** One `--json` line of the commands above, as a type: what the reporters emit (src/playbook/events.ts). */
export type SwarmupEvent = z.infer<typeof eventSchema>;
export type SmokeEvent = z.infer<typeof smokeEventSchema>;

/** One line of `cleanup --json`: what was found (per cluster and region), what was removed, a summary. */
export const cleanupEventSchema = z.union([
  logEvent,
  z.strictObject({
    event: z.literal('cluster'),
    where: z.string().min(1),
    cluster: z.string().min(1),
    summary: z.string(),
    owner: z.string().optional(),
    selected: z.boolean(),
    mine: z.boolean(),
  }),
  z.strictObject({ event: z.literal('removed'), what: z.string().min(1) }),
  errorEvent,
  summaryEvent,
]);

/** `status --json`: exactly one object. */
export const statusSchema = z.strictObject({
  cluster: z.string().min(1),
  provider: z.string().min(1),
  nodes: z.array(nodeRowSchema),
  /** Health warnings (clock or version skew, duplicate hostnames, nodes down for long, a small MTU). */
  warnings: z
    .array(
      z.strictObject({
        check: z.enum(['clock', 'version', 'hostname', 'down', 'mtu']),
        node: z.string().optional(),
        message: z.string().min(1),
      }),
    )
    .optional(),
  /** Not verified: `stopped` (every machine stopped) or `broken` (the swarm cannot be listed). */
  state: z.enum(['stopped', 'broken']).optional(),
  /** Not verified: every recorded node's machine, engine and swarm state. */
  hosts: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        machine: z.string().min(1),
        engine: z.string().min(1),
        swarm: z.string().min(1),
      }),
    )
    .optional(),
  /** Not verified: the one command that repairs it. */
  repair: z.string().min(1).optional(),
});

/**
 * `ls --json`, after the clusters' lines: one line per `down` that kept a removed cluster's backups (no `cluster`
 * field: a reader of clusters skips it).
 */
export const lsKeptSchema = z.strictObject({
  removedCluster: z.string().min(1),
  removedAt: z.iso.datetime().nullable(),
  backupsDir: z.string().min(1),
  backups: z
    .array(
      z.strictObject({
        file: z.string().min(1),
        bytes: z.number().int().nonnegative(),
        createdAt: z.iso.datetime(),
      }),
    )
    .min(1),
});

/** `ls --json`: one object per cluster of the state home, per line. */
export const lsRowSchema = z.strictObject({
  cluster: z.string().min(1),
  provider: z.string().min(1),
  managers: z.number().int().nullable(),
  workers: z.number().int().nullable(),
  createdAt: z.iso.datetime().nullable(),
  updatedAt: z.iso.datetime().nullable(),
  /** When `swarmup stop` stopped it; absent once it runs again. */
  stoppedAt: z.iso.datetime().optional(),
  live: z
    .strictObject({
      reachable: z.boolean(),
      ok: z.boolean(),
      ready: z.number().int().nonnegative(),
      nodes: z.number().int().nonnegative(),
      stopped: z.boolean().optional(),
      error: z.string().optional(),
    })
    .optional(),
});

/** `status --json`, `cleanup --json` and `ls --json` lines as types (exported from `swarmup` with the schemas). */
export type StatusOutput = z.infer<typeof statusSchema>;
export type CleanupEvent = z.infer<typeof cleanupEventSchema>;
export type LsLine = z.infer<typeof lsRowSchema> | z.infer<typeof lsKeptSchema>;

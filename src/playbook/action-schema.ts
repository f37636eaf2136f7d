import { z } from 'zod';

/** The `--json` shape of each action of the cluster plan (src/swarm/actions.ts): see event-schema.ts. */

export const role = z.enum(['manager', 'worker']);
const host = z.string().min(1);
const nodeId = z.string().min(1);
const labels = z.record(z.string().min(1), z.string());

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
    labels: labels.optional(),
  },
  {
    kind: z.literal('remove-node'),
    nodeId,
    hostname: z.string(),
    demoteFirst: z.boolean(),
    reason: z.string(),
  },
  { kind: z.literal('join'), host, role, dataPathAddr: z.string().optional(), labels: labels.optional() },
  { kind: z.literal('promote'), host, nodeId },
  { kind: z.literal('demote'), host, nodeId },
  { kind: z.literal('drain'), host, nodeId },
  { kind: z.literal('activate'), host, nodeId },
  { kind: z.literal('autolock'), enable: z.boolean() },
  {
    kind: z.literal('label'),
    host,
    nodeId,
    set: labels,
    remove: z.array(z.string().min(1)),
    activate: z.literal(true).optional(),
  },
  {
    kind: z.literal('remove-smoke'),
    manager: host.optional(),
    hosts: z.array(host),
    found: z.array(z.string().min(1)),
  },
  { kind: z.literal('rotate-tokens'), tokens: z.enum(['worker', 'manager']).optional() },
  { kind: z.literal('unlock'), host },
  { kind: z.literal('rotate-unlock-key') },
  { kind: z.literal('rotate-ca') },
  { kind: z.literal('upgrade-engine'), host, role, from: z.string(), to: z.string().min(1) },
] as const;

type Shape = (typeof actionShapes)[number];
const withFields = <E extends z.ZodRawShape>(extra: E) =>
  actionShapes.map((shape: Shape) => z.strictObject({ ...shape, description: z.string().min(1), ...extra }));

export const actionSchema = z.discriminatedUnion('kind', withFields({}) as never) as z.ZodType<
  { kind: string; description: string } & Record<string, unknown>
>;

export const actionEventSchema = z.discriminatedUnion(
  'kind',
  withFields({ event: z.literal('action'), status: z.enum(['ok', 'failed']) }) as never,
) as z.ZodType<{ event: 'action' } & Record<string, unknown>>;

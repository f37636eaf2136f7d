/**
 * The library API of `swarmup`:
 * - for playbooks (`swarmup run FILE.ts`): `import { definePlaybook, sh } from 'swarmup'`;
 * - for scripts reading `--json` output and tools writing config files: the zod schemas swarmup itself checks them
 *   with, and the TypeScript types inferred from them (`swarmup schema config|events` prints the same schemas as
 *   JSON Schema; the package ships them as `swarmup/schema/config.schema.json` and `events.schema.json`).
 */
export {
  definePlaybook,
  PlaybookContext,
  type HostHandle,
  type HostSelector,
  type Playbook,
} from './playbook/playbook.ts';
export { sh, quote } from './transport/quote.ts';
export type { ExecResult } from './transport/ssh-exec.ts';
export type { Machine } from './providers/provider.ts';

export {
  actionSchema,
  cleanupEventSchema,
  eventSchema,
  lsKeptSchema,
  lsRowSchema,
  nodeRowSchema,
  planEventSchema,
  removalSchema,
  smokeEventSchema,
  statusSchema,
  type CleanupEvent,
  type LsLine,
  type SmokeEvent,
  type StatusOutput,
  type SwarmupEvent,
} from './playbook/event-schema.ts';
export { configFileSchema, type ConfigFile, type HostEntry } from './config/schema.ts';

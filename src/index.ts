/** The library API for playbooks: `import { definePlaybook, sh } from 'swarmup'`. */
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

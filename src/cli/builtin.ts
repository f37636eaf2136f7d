/** The built-in playbooks, each loaded by the command that runs it (they bring the SSH and Docker clients). */
export const builtin = {
  up: async () => (await import('../../playbooks/up.ts')).default,
  down: async () => (await import('../../playbooks/down.ts')).default,
  status: async () => (await import('../../playbooks/status.ts')).default,
  engine: async () => (await import('../../playbooks/engine.ts')).default,
  stop: async () => (await import('../../playbooks/stop.ts')).default,
  start: async () => (await import('../../playbooks/start.ts')).default,
};

/** What `swarmup schema` prints (src/cli/schemas.ts generates each); here, with no import, for the command line. */
export const SCHEMA_KINDS = ['config', 'events', 'status', 'cleanup', 'ls'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

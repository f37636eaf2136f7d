// The JSON Schemas of what swarmup reads and prints, generated from the zod schemas that check them (one source):
// `swarmup schema KIND` prints one; `npm run docs` writes the ones shipped in the package for editors (schema/).
import { z } from 'zod';
import { configFileSchema } from '../config/schema.ts';
import {
  cleanupEventSchema,
  eventSchema,
  lsKeptSchema,
  lsRowSchema,
  statusSchema,
} from '../playbook/event-schema.ts';
import { ABOUT } from '../wizard/render.ts';
import type { SchemaKind } from './schema-kinds.ts';

export type { SchemaKind };

/** Each kind `swarmup schema` prints: the zod schema, whether it is read (input) or printed (output), a title. */
const KINDS = {
  config: {
    schema: configFileSchema,
    io: 'input',
    title: 'swarmup config / inventory file',
    description:
      'The YAML file of --config (docs/config.md, "Config / inventory file"); unknown keys are refused.',
  },
  events: {
    schema: eventSchema,
    io: 'output',
    title: 'swarmup --json event',
    description:
      'One line of up, down, plan, scale, recover, engine, verify and run with --json (docs/json-events.md).',
  },
  status: {
    schema: statusSchema,
    io: 'output',
    title: 'swarmup status --json',
    description: 'The one object of status --json.',
  },
  cleanup: {
    schema: cleanupEventSchema,
    io: 'output',
    title: 'swarmup cleanup --json event',
    description: 'One line of cleanup --json.',
  },
  ls: {
    schema: z.union([lsRowSchema, lsKeptSchema]),
    io: 'output',
    title: 'swarmup ls --json line',
    description: 'One line of ls --json: a cluster, or the kept backups of a removed one.',
  },
} as const satisfies Record<
  SchemaKind,
  { schema: z.ZodType; io: 'input' | 'output'; title: string; description: string }
>;

/** The files shipped in the package (package.json "files"), for editors and validators: schema/<kind>.schema.json. */
export const shippedSchemas: SchemaKind[] = ['config', 'events'];

/** The formats draft-07 defines. */
const STANDARD_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

/** The JSON Schema (draft-07, what editors and most validators read) of one kind. Pure. */
export function jsonSchemaOf(kind: SchemaKind): Record<string, unknown> {
  const { schema, io, title, description } = KINDS[kind];
  const { $schema, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-7',
    io,
    // zod names some checks as formats of its own ("starts_with"), which validators refuse as unknown: the
    // pattern beside it says the same, so only the formats of the standard stay.
    override: ({ jsonSchema }) => {
      if (typeof jsonSchema.format === 'string' && !STANDARD_FORMATS.has(jsonSchema.format))
        delete jsonSchema.format;
    },
  }) as Record<string, unknown>;
  if (kind === 'config') describeKeys(rest);
  return { $schema, title, description, ...rest };
}

/** Each top-level key of the config file described as the wizard's comments describe it (editors show them). */
function describeKeys(schema: Record<string, unknown>): void {
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  for (const [key, about] of Object.entries(ABOUT)) {
    const property = properties[key];
    if (property)
      property.description = about
        .split('\n')
        .map((l) => l.trim())
        .join(' ');
  }
}

/** As `swarmup schema KIND` prints it and schema/KIND.schema.json holds it. */
export function renderJsonSchema(kind: SchemaKind): string {
  return JSON.stringify(jsonSchemaOf(kind), null, 2) + '\n';
}

import type { z } from 'zod';
import type { ClusterSpec } from '../config/cluster.ts';
import { resolveCluster } from '../cluster/spec-resolve.ts';
import { configFileSchema, type ConfigFile } from '../config/schema.ts';
import { InputError } from '../errors.ts';

/**
 * The wizard's answers are checked by the config file's own rules: each answer is put into the config built so far
 * and the whole is run through the file's schema and resolveCluster, exactly as `swarmup up --config` would. Pure.
 */

/** The first problem with `config`, as `field: message`; undefined when the config file's rules accept it. */
export function configProblem(config: ConfigFile): string | undefined {
  const parsed = configFileSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
    const field = [...issue.path, ...keys]
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return `${field || '(top level)'}: ${issue.message}`;
  }
  // An ssh inventory before its first host is given: resolveCluster would ask for hosts, which come later.
  if (config.provider === 'ssh' && !config.hosts?.length) return undefined;
  try {
    resolveCluster(parsed.data, {});
    return undefined;
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
}

/** The spec `up` would resolve from the config (it must have no problem). */
export function specOf(config: ConfigFile): ClusterSpec {
  return resolveCluster(configFileSchema.parse(config), {});
}

/** A prompt validator: the answer turned into a candidate config (or a message about the answer's form). */
export function validator(
  candidate: (answer: string) => ConfigFile | string,
): (answer: string) => string | true {
  return (answer) => {
    const c = candidate(answer.trim());
    if (typeof c === 'string') return c;
    return configProblem(c) ?? true;
  };
}

/** One field's own schema (a part of the file's schema) on one answer: true, or the field and the message. */
export function fieldProblem(field: string, schema: z.ZodType, value: unknown): string | true {
  const r = schema.safeParse(value);
  return r.success ? true : `${field}: ${r.error.issues[0]!.message}`;
}

/** A count typed at a prompt: digits only (the file's rules then judge the number). */
export function wholeNumber(answer: string): number | undefined {
  return /^\d{1,6}$/.test(answer.trim()) ? Number(answer.trim()) : undefined;
}

/** `203.0.113.7/32, 2001:db8::/48` as the file writes it: one block as a string, several as a list. */
export function cidrAnswer(answer: string): string | string[] | undefined {
  const blocks = answer
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (blocks.length === 0) return undefined;
  return blocks.length === 1 ? blocks[0]! : blocks;
}

/** Omit the keys whose value is undefined or an empty string (an answer left blank: the file's default holds). */
export function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** What the manager counts mean, for the question (the policy itself is config/policy.ts). */
export const MANAGER_POLICY =
  'managers: 1 = no fault tolerance, 3 tolerate the loss of 1, 5 of 2, 7 of 3; even counts add no tolerance';

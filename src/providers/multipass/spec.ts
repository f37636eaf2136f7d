import type { CliFlags, MultipassSpec } from '../../config/cluster.ts';
import { flagOverFile } from '../../config/flag-over-file.ts';
import type { ConfigFile } from '../../config/schema.ts';
import { InputError } from '../../errors.ts';

/** Multipass's own defaults are 1 CPU, 1G, 5G; an engine and its images want more disk than 5G. */
export const MULTIPASS_DEFAULTS: MultipassSpec = { image: '24.04', cpus: 1, memory: '1G', disk: '10G' };
/** Multipass's minimums (`multipass help launch`). */
const MIN_MEMORY = 512 * 1024 ** 2;
const MIN_DISK = 1024 ** 3;

/**
 * Bytes of a size as Multipass reads it (src/utils/memory_size.cpp: `\d+(\.\d+)?` with K, M or G, optionally
 * followed by `B` or `iB`, all powers of 1024; or plain bytes with an optional `B`); undefined when it would refuse it.
 */
export function sizeInBytes(text: string): number | undefined {
  const m = /^\s*(\d+)(?:\.(\d+)(?=[KMG]))?(?:([KMG])(?:i?B)?|B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[3] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const whole = Number(m[1]) * unit;
  const fraction = m[2] ? Math.floor((Number(m[2]) * unit) / 10 ** m[2].length) : 0;
  return whole + fraction;
}

/** `2 GiB`, `512 MiB`: for messages. */
export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${Math.round(gib * 10) / 10} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** Image names Multipass takes: a release (24.04, noble, lts, daily:25.04), a file:// or https:// URL. */
const IMAGE = /^([A-Za-z0-9][A-Za-z0-9._-]*:)?[A-Za-z0-9][A-Za-z0-9._-]*$|^(file|https?):\/\/\S+$/;

/** The Multipass part of the cluster spec: flags over the file's `multipass:` section, checked as Multipass would. */
export function resolveMultipass(
  file: ConfigFile | undefined,
  flags: CliFlags,
  where: (field: string) => string,
): MultipassSpec {
  const f = file?.multipass ?? {};
  const setting = (key: 'image' | 'memory' | 'disk') =>
    flagOverFile(flags[key], `--${key}`, f[key], `multipass.${key}`, where);
  const given = setting('image');
  const image = given.value ?? MULTIPASS_DEFAULTS.image;
  if (!IMAGE.test(image))
    throw new InputError(`${given.field}: "${image}" is not a Multipass image (24.04, noble, a file:// URL)`);
  let cpus = f.cpus ?? MULTIPASS_DEFAULTS.cpus;
  if (flags.cpus !== undefined) {
    if (!/^\d+$/.test(flags.cpus) || Number(flags.cpus) < 1 || Number(flags.cpus) > 64)
      throw new InputError(`--cpus: expected a whole number from 1 to 64, got "${flags.cpus}"`);
    cpus = Number(flags.cpus);
  }
  const size = (key: 'memory' | 'disk', min: number): string => {
    const { value, field } = setting(key);
    const text = value ?? MULTIPASS_DEFAULTS[key];
    const bytes = sizeInBytes(text);
    if (bytes === undefined)
      throw new InputError(`${field}: "${text}" is not a size like 2G or 512M (K, M, G: powers of 1024)`);
    if (bytes < min)
      throw new InputError(`${field}: "${text}" is below Multipass's minimum of ${formatBytes(min)}`);
    return text.trim();
  };
  return { image, cpus, memory: size('memory', MIN_MEMORY), disk: size('disk', MIN_DISK) };
}

/**
 * Whether `count` VMs of `memory` each fit in this machine's memory (`totalBytes`); the problem in words if not.
 * Multipass would start them and the host would swap or the hypervisor refuse part-way; refused before any launch.
 */
export function memoryProblem(count: number, memory: string, totalBytes: number): string | undefined {
  const each = sizeInBytes(memory) ?? 0;
  if (count === 0 || each * count <= totalBytes) return undefined;
  return (
    `not enough memory: ${count} VM${count === 1 ? '' : 's'} × ${memory} = ${formatBytes(each * count)}, ` +
    `but this machine has ${formatBytes(totalBytes)}; lower --memory (multipass.memory) or the node count`
  );
}

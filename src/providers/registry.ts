import { InputError } from '../errors.ts';
import type { ProviderDescriptor } from './descriptor.ts';
import { dockerDescriptor } from './docker/descriptor.ts';
import { ec2Descriptor } from './ec2/descriptor.ts';
import { multipassDescriptor } from './multipass/descriptor.ts';
import { sshDescriptor } from './ssh/descriptor.ts';

/** Every provider swarmup has: one line each. */
export const providerRegistry: readonly ProviderDescriptor[] = [
  dockerDescriptor,
  sshDescriptor,
  ec2Descriptor,
  multipassDescriptor,
];

export function providerNamed(name: string, field = '--provider'): ProviderDescriptor {
  const d = providerRegistry.find((p) => p.name === name);
  if (d) return d;
  const names = providerRegistry.map((p) => p.name).join(', ');
  throw new InputError(`${field}: "${name}" is not a provider (${names})`);
}

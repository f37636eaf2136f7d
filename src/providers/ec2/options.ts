import type { Machine } from '../provider.ts';
import type { AwsApi } from './aws.ts';

/** Hooks of the EC2 provider for tests (a stand-in client, an emulator); the command line sets none. */
export interface Ec2ProviderOptions {
  /** Where the AWS calls go (tests: a stand-in client, or the SDK pointed at an emulator). */
  aws?: () => Promise<AwsApi>;
  /** How this machine's public address is learnt for the default SSH rule. */
  learnPublicAddress?: () => Promise<string | undefined>;
  /**
   * Test only: where SSH goes for an instance. An emulator's instances have addresses nobody can reach, so the
   * end-to-end test maps each instance to a local node container. Never set by the command line.
   */
  sshTargetFor?: (instance: {
    name: string;
    role: 'manager' | 'worker';
  }) => Pick<Machine, 'address' | 'port' | 'advertiseAddress'>;
  pollMs?: number;
}

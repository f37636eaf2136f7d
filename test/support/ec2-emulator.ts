import { rmSync } from 'node:fs';
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeEach, inject } from 'vitest';
import { resolveCluster } from '../../src/cluster/spec-resolve.ts';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.ts';
import { StateStore } from '../../src/state/store.ts';
import { clusterInstances, motoEc2, motoEnv, motoImage, resetMoto } from './aws.ts';
import { tempHome } from './cli.ts';
import { startMoto } from './moto-setup.ts';

/**
 * One test file's view of moto's EC2 emulator (the stand-in for AWS; tests reach it on loopback only): its URL, a
 * state home, the environment a swarmup child needs to talk to it, an EC2 client, the image to launch, the
 * provider in this process, and a fresh emulator for each test. The ec2 project's files share the project's
 * emulator (`ec2Emulator()`); an e2e file, which runs beside others, starts one of its own (`ownEc2Emulator()`).
 */
export class Ec2Emulator {
  /** An EC2 client of the emulator in eu-west-1, the tests' region. */
  readonly ec2: EC2Client;
  #ami: string | undefined;

  constructor(
    readonly url: string,
    /** The state home of the command line and of the providers made in this process. */
    readonly home = tempHome(),
  ) {
    this.ec2 = motoEc2(url);
  }

  /** The environment of a swarmup child talking to the emulator with this state home (or another). */
  env(home = this.home): Record<string, string> {
    return motoEnv(this.url, home);
  }

  /** An EC2 client of the emulator in another region. */
  client(region: string): EC2Client {
    return motoEc2(this.url, region);
  }

  /** An empty emulator (default VPCs routed to the internet, as AWS's are). */
  reset(): Promise<void> {
    return resetMoto(this.url);
  }

  /** The image of the emulator's catalogue every test launches (Ubuntu 16.04), looked up by `freshForEachTest`. */
  get ami(): string {
    if (!this.#ami) throw new Error('no image yet: call freshForEachTest() in the describe block');
    return this.#ami;
  }

  /** An image of the emulator's catalogue by name pattern. */
  image(pattern?: string): Promise<string> {
    return motoImage(this.ec2, pattern);
  }

  /** The instances tagged for a cluster (in the given states; default every state). */
  instances(cluster: string, states?: string[]): Promise<Instance[]> {
    return clusterInstances(this.ec2, cluster, states);
  }

  /** Instances of the cluster with this Name, in any state. */
  async named(cluster: string, name: string): Promise<Instance[]> {
    const r = await this.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:swarmup:cluster', Values: [cluster] },
          { Name: 'tag:Name', Values: [name] },
        ],
      }),
    );
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  }

  /**
   * Before each test of the enclosing block: an empty emulator, empty state homes (this one and the `others`), and
   * the image every test launches looked up.
   */
  freshForEachTest(others: string[] = []): void {
    beforeEach(async () => {
      await this.reset();
      for (const h of [this.home, ...others]) rmSync(h, { recursive: true, force: true });
      this.#ami = await this.image();
    });
  }

  /**
   * The command line of a swarmup command on EC2, as the tests run it: the provider, the cluster's name, SSH from a
   * documentation address (or `sshCidr`), the emulator's image (unless `ami: false`), then `more`.
   */
  args(
    command: string,
    name: string,
    opts: { sshCidr?: string; ami?: false } = {},
    ...more: string[]
  ): string[] {
    return [
      command,
      '--provider',
      'ec2',
      '--name',
      name,
      '--ssh-cidr',
      opts.sshCidr ?? '203.0.113.7/32',
      ...(opts.ami === false ? [] : ['--ami', this.ami]),
      ...more,
    ];
  }

  /**
   * The provider itself, in this process, pointed at the emulator: the cluster of these flags (the image from
   * `ami` unless given, SSH from a documentation address), its state in the process's state home.
   */
  provider(name: string, flags: Record<string, string> = {}): Ec2Provider {
    const spec = resolveCluster(undefined, {
      name,
      provider: 'ec2',
      sshCidr: '203.0.113.7/32',
      ami: this.ami,
      ...flags,
    });
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    return new Ec2Provider(spec, new StateStore(name), {
      aws: async () => ({
        ec2: this.ec2,
        ssm: new SSMClient({ region: 'eu-west-1', endpoint: this.url, credentials }),
        region: 'eu-west-1',
      }),
      pollMs: 20,
    });
  }
}

/**
 * The ec2 project's emulator (one for the project, whose files run one after another), with a state home: the
 * providers made in this process keep their state there, where the command line does.
 */
export function ec2Emulator(home?: string): Ec2Emulator {
  const emulator = new Ec2Emulator(inject('motoUrl'), home);
  process.env.SWARMUP_HOME = emulator.home;
  return emulator;
}

/**
 * An emulator of the file's own, stopped after the file: an e2e file resets it, which must not happen under
 * another file's feet (the e2e projects run files side by side). Called at the top of the file, or, with
 * `stopAfterFile` false, inside a test that stops it itself.
 */
export async function ownEc2Emulator({
  home,
  stopAfterFile = true,
}: { home?: string; stopAfterFile?: boolean } = {}): Promise<Ec2Emulator & { stop(): void }> {
  const moto = await startMoto();
  if (stopAfterFile) afterAll(() => moto.stop());
  return Object.assign(new Ec2Emulator(moto.url, home), { stop: () => moto.stop() });
}

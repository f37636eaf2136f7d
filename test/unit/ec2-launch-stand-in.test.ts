import { describe, expect, it } from 'vitest';
import { Ec2Provider } from '../../src/providers/ec2/ec2-provider.ts';
import { StateStore } from '../../src/state/store.ts';
import { awsError, freshHome, labSpec, standInEc2 } from '../support/ec2-stand-in.ts';

/**
 * Launch failures the emulator does not produce (it has capacity everywhere and never kills an instance by itself):
 * stand-in clients answer as AWS does.
 */
describe('stand-in: launches that AWS refuses or kills', () => {
  it('stand-in: InsufficientInstanceCapacity in one zone: the node is launched in the next allowed zone, and the output says so', async () => {
    freshHome();
    // The default VPC of the stand-in has subnet-0/1/2 in eu-west-1a/b/c; eu-west-1a has no capacity now.
    const fake = standInEc2((name, input) => {
      if (name === 'RunInstances' && input.SubnetId === 'subnet-0')
        throw awsError(
          'InsufficientInstanceCapacity',
          'We currently do not have sufficient t3.small capacity in the Availability Zone you requested (eu-west-1a).',
        );
    });
    const said: string[] = [];
    const p = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), { aws: async () => fake.api, pollMs: 1 });
    await p.prepare(() => undefined);
    await p.create({ name: 'lab-manager-1', role: 'manager' }, (m) => said.push(m));
    const launches = fake.api.calls.filter(([n]) => n === 'RunInstances').map(([, i]) => i);
    expect(launches.map((i) => i.SubnetId)).toEqual(['subnet-0', 'subnet-1']);
    // A distinct token per zone attempt: AWS refuses one token with other parameters.
    expect(new Set(launches.map((i) => i.ClientToken)).size).toBe(2);
    expect(fake.instances.get(fake.idOf('lab-manager-1'))!.SubnetId).toBe('subnet-1');
    expect(said.at(-1)).toBe(
      'lab-manager-1: launching t3.small in eu-west-1b (eu-west-1a: InsufficientInstanceCapacity)',
    );
  });

  it('stand-in: no zone with capacity: the node fails naming every zone tried; any other launch error fails at once', async () => {
    freshHome();
    const fake = standInEc2((name) => {
      if (name === 'RunInstances') throw awsError('InsufficientInstanceCapacity');
    });
    const p = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), { aws: async () => fake.api, pollMs: 1 });
    await p.prepare(() => undefined);
    await expect(p.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined)).rejects.toThrow(
      'lab-manager-1: launch instance: no zone could take a t3.small now (eu-west-1a: InsufficientInstanceCapacity; eu-west-1b: InsufficientInstanceCapacity; eu-west-1c: InsufficientInstanceCapacity)',
    );

    freshHome();
    const refusing = standInEc2((name) => {
      if (name === 'RunInstances') throw awsError('InvalidParameterCombination', 'not with this image');
    });
    const q = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), {
      aws: async () => refusing.api,
      pollMs: 1,
    });
    await q.prepare(() => undefined);
    await expect(q.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined)).rejects.toThrow(
      'lab-manager-1: launch instance: not with this image',
    );
    expect(refusing.api.calls.filter(([n]) => n === 'RunInstances')).toHaveLength(1);
  });

  it("stand-in: an instance that goes pending -> terminated while swarmup waits for it is reported within seconds, with AWS's StateReason", async () => {
    freshHome();
    const fake = standInEc2();
    const p = new Ec2Provider(labSpec(1, 0), new StateStore('lab'), {
      aws: async () => fake.api,
      pollMs: 50,
    });
    await p.prepare(() => undefined);
    await p.create({ name: 'lab-manager-1', role: 'manager' }, () => undefined);
    const id = fake.idOf('lab-manager-1');
    fake.instances.get(id)!.State = { Name: 'pending' };
    delete fake.instances.get(id)!.PrivateIpAddress;
    const started = Date.now();
    const waiting = p.reach(['lab-manager-1']);
    setTimeout(
      () =>
        fake.terminate(id, {
          Code: 'Client.VolumeLimitExceeded',
          Message: 'Client.VolumeLimitExceeded: Volume limit exceeded',
        }),
      300,
    );
    await expect(waiting).rejects.toThrow(
      `lab-manager-1: wait for the instance to run: instance ${id} is terminated: Client.VolumeLimitExceeded: Volume limit exceeded`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stand-in: a run that stops between launch and naming leaves instances tagged for the cluster and role, unnamed; the next run adopts them in their zones and launches none', async () => {
    freshHome();
    let naming: 'refused' | 'allowed' = 'refused';
    const fake = standInEc2((name) => {
      if (name === 'CreateTags' && naming === 'refused')
        throw awsError('UnauthorizedOperation', 'the run stops here');
    });
    const tag = (i: { Tags?: Array<{ Key?: string; Value?: string }> }, k: string) =>
      i.Tags?.find((t) => t.Key === k)?.Value;
    const first = new Ec2Provider(labSpec(3, 6), new StateStore('lab'), {
      aws: async () => fake.api,
      pollMs: 1,
    });
    await first.prepare(() => undefined);
    const nodes = first.wanted();
    const results = await Promise.allSettled(nodes.map((n) => first.create(n, () => undefined)));
    expect(results.map((r) => r.status)).toEqual(nodes.map(() => 'rejected'));
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain(
      'lab-manager-1: name instance: i-',
    );
    // One launch per zone and role (3 managers 1-1-1, 6 workers 2-2-2), each instance tagged at creation.
    expect(fake.runTokens()).toHaveLength(6);
    expect(fake.launched()).toBe(9);
    for (const i of fake.instances.values()) {
      expect(tag(i, 'swarmup:cluster')).toBe('lab');
      expect(['manager', 'worker']).toContain(tag(i, 'swarmup:role'));
      expect(tag(i, 'Name')).toBeUndefined();
    }
    // Unnamed instances are no machines yet.
    expect(await first.list()).toEqual([]);

    naming = 'allowed';
    const said: string[] = [];
    const second = new Ec2Provider(labSpec(3, 6), new StateStore('lab'), {
      aws: async () => fake.api,
      pollMs: 1,
    });
    await second.prepare(() => undefined);
    await Promise.all(nodes.map((n) => second.create(n, (m) => said.push(m))));
    expect(fake.runTokens()).toHaveLength(6);
    expect(fake.launched()).toBe(9);
    expect(said.find((m) => m.startsWith('adopting 9 instances'))).toBeDefined();
    expect((await second.list()).map((m) => [m.name, m.role, m.state])).toEqual(
      nodes.map((n) => [n.name, n.role, 'running']),
    );
    // Listed through every page (the stand-in answers 2 instances a page, whatever MaxResults asks), as the SDK's
    // paginator reads them: asking AWS's largest page.
    const listings = fake.api.calls.filter(([n]) => n === 'DescribeInstances').map(([, i]) => i);
    expect(listings.some((i) => i.NextToken)).toBe(true);
    expect(listings.every((i) => i.MaxResults === 1000 || i.MaxResults === 5)).toBe(true);
    // Each node took an instance of its role in the zone of its slot.
    for (const i of fake.instances.values()) {
      expect(tag(i, 'Name')).toContain(`-${tag(i, 'swarmup:role')}-`);
      const n = Number(tag(i, 'Name')!.split('-').at(-1));
      expect(i.Placement!.AvailabilityZone).toBe(`eu-west-1${'abc'[(n - 1) % 3]}`);
    }
  });
});

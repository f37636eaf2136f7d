import { AssociateVpcCidrBlockCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { swarmup } from '../support/cli.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * The swarm's address pool on EC2, against moto: the VPC's blocks (its primary one and an associated secondary one)
 * are networks the pool must not overlap. `plan` creates nothing, so the pool is chosen from the VPC alone.
 */
const aws = ec2Emulator();
const { ec2 } = aws;
const env = aws.env();

describe('address pool on EC2 (emulator)', () => {
  aws.freshForEachTest();

  it("the pool chosen for init overlaps none of the default VPC's blocks, the secondary one included", async () => {
    const vpc = (
      await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))
    ).Vpcs![0]!;
    // 10.0.0.0/16 and 10.1.0.0/16 are taken by the VPC: the first free /16 is 10.2.0.0/16.
    for (const CidrBlock of ['10.0.0.0/16', '10.1.0.0/16'])
      await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.VpcId!, CidrBlock }));
    const r = await swarmup(aws.args('plan', 'lab', {}, '--json'), env);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.events.find((e) => e.event === 'plan') as {
      addrPool: { pool: string[]; source: string; seen: number };
      phases: Array<{ actions: Array<Record<string, unknown>> }>;
    };
    expect(plan.addrPool).toMatchObject({ pool: ['10.2.0.0/16'], source: 'chosen', seen: 3 });
    const init = plan.phases.flatMap((p) => p.actions).find((a) => a.kind === 'init');
    expect(init).toMatchObject({ host: 'lab-manager-1', defaultAddrPool: ['10.2.0.0/16'], subnetSize: 24 });
  });
});

import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  EC2Client,
  paginateDescribeInstances,
  type Instance,
} from '@aws-sdk/client-ec2';

/** Environment for talking to the emulator only: dummy credentials, no shared config files, a fixed region. */
export function motoEnv(url: string, home: string): Record<string, string> {
  return {
    SWARMUP_HOME: home,
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'eu-west-1',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * A fresh emulator. Its default VPCs lack what AWS gives every default VPC, an internet gateway and the main route
 * table's default route to it (swarmup checks that route before launching): added here for the test regions.
 */
export async function resetMoto(url: string, regions = ['eu-west-1', 'us-east-1']): Promise<void> {
  const r = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!r.ok) throw new Error(`moto reset: ${r.status}`);
  await Promise.all(regions.map((region) => routeDefaultVpc(motoEc2(url, region))));
}

async function routeDefaultVpc(ec2: EC2Client): Promise<void> {
  const vpcs = await ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) return;
  await routeToInternet(ec2, vpcId);
}

/** An internet gateway attached to the VPC and its main route table's 0.0.0.0/0 route to it (as AWS sets up). */
export async function routeToInternet(ec2: EC2Client, vpcId: string, routeTableId?: string): Promise<void> {
  const igw = await ec2.send(new CreateInternetGatewayCommand({}));
  const igwId = igw.InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
  const table =
    routeTableId ??
    (
      await ec2.send(
        new DescribeRouteTablesCommand({
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'association.main', Values: ['true'] },
          ],
        }),
      )
    ).RouteTables?.[0]?.RouteTableId;
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: table!, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igwId }),
  );
}

export function motoEc2(url: string, region = 'eu-west-1'): EC2Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return new EC2Client({
    region,
    endpoint: url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

/** The id of an image of the emulator's catalogue by name pattern (Ubuntu 16.04 by default: moto's amis.json). */
export async function motoImage(ec2: EC2Client, pattern = '*ubuntu-xenial-16.04*'): Promise<string> {
  const r = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: [pattern] }] }));
  const id = r.Images?.[0]?.ImageId;
  if (!id) throw new Error(`the emulator has no image named ${pattern}`);
  return id;
}

/** The instances tagged for a cluster (in the given states; default every state). */
export async function clusterInstances(
  ec2: EC2Client,
  cluster: string,
  states?: string[],
): Promise<Instance[]> {
  const out: Instance[] = [];
  // Every page: moto answers at most 100 reservations a page.
  for await (const page of paginateDescribeInstances(
    { client: ec2 },
    {
      Filters: [
        { Name: 'tag:swarmup:cluster', Values: [cluster] },
        ...(states ? [{ Name: 'instance-state-name', Values: states }] : []),
      ],
    },
  ))
    out.push(...(page.Reservations ?? []).flatMap((x) => x.Instances ?? []));
  return out;
}

/** One EC2 call as the emulator received it: its Action and its query parameters. */
export interface RecordedCall {
  action: string;
  params: URLSearchParams;
}

/**
 * The EC2 calls the emulator receives while `body` runs, from moto's request recorder (what swarmup sent, not what
 * it says it sent). The ec2 project's files run one at a time against one emulator, so every call is the test's.
 */
export async function recordCalls(url: string, body: () => Promise<void>): Promise<RecordedCall[]> {
  const api = async (what: string, method = 'POST') => {
    const r = await fetch(`${url}/moto-api/recorder/${what}`, { method });
    if (!r.ok) throw new Error(`moto recorder ${what}: ${r.status}`);
    return r.text();
  };
  await api('reset-recording');
  await api('start-recording');
  try {
    await body();
  } finally {
    await api('stop-recording');
  }
  const lines = (await api('download-recording', 'GET')).split('\n').filter(Boolean);
  await api('reset-recording');
  return lines.flatMap((line) => {
    const e = JSON.parse(line) as { body?: string | null; body_encoded?: boolean };
    const text = e.body_encoded ? Buffer.from(e.body ?? '', 'base64').toString('utf8') : (e.body ?? '');
    const params = new URLSearchParams(text);
    const action = params.get('Action');
    return action ? [{ action, params }] : [];
  });
}

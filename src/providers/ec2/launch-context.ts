import { refuseDenied, type PermissionCheck } from '../permission-report.ts';
import type { ProgressSink } from '../provider.ts';
import { publicKeyFor, sshCidrsFor } from './access.ts';
import { accountOf, generationOf } from './cluster-record.ts';
import type { ImageChoice } from './image.ts';
import { resolveImage } from './image.ts';
import { ensureKeyPair } from './key-pair.ts';
import { refuseNamesakes } from './namesakes.ts';
import { findNetwork, type Network } from './network.ts';
import type { Ec2Run } from './run.ts';
import { ensureSecurityGroup } from './security-group.ts';

/** What every launch of a run needs, learnt once by `prepare` (parallel creates share it). */
export interface LaunchContext {
  subnets: Network['subnets'];
  zones: string[];
  securityGroupId: string;
  image: ImageChoice;
  userData?: string;
  generation: string;
}

/** Checks first (everything that can be refused), then the key pair and the security group. */
export async function settleLaunch(
  run: Ec2Run,
  permissions: PermissionCheck[],
  progress: ProgressSink,
): Promise<{ context: LaunchContext; created: string[] }> {
  const { api, spec, ec2, state, resourceName } = run;
  refuseDenied(permissions, `EC2 in ${api.region}`);
  // The image first: its architecture, login user and engine source are refused here or not at all.
  const image = await resolveImage(api, ec2, spec.engine);
  if (image.note) progress(image.note);
  const { vpcId, vpcCidr, subnets, notes } = await findNetwork(api, ec2);
  for (const note of notes) progress(note);
  const sshCidrs = await sshCidrsFor(ec2, vpcCidr, run.opts.learnPublicAddress);
  // Before anything is made or recorded: a key pair or security group of the cluster's names not made here.
  await refuseNamesakes(api, spec.name, resourceName, vpcId);
  const publicKey = publicKeyFor(ec2, state);

  const created: string[] = [];
  // First, so a key pair that is not the local key is refused before anything is made or recorded.
  const keySource = ec2.sshKey ? `the key in ${ec2.sshKey}` : "the cluster's own key";
  if (await ensureKeyPair(api, spec.name, resourceName, publicKey, progress, keySource))
    created.push(`key pair ${resourceName}`);
  const generation = generationOf(spec, state, api.region);
  const account = await accountOf(api);
  if (account && state.read()?.account !== account)
    state.write({ name: spec.name, provider: 'ec2', account });
  const group = await ensureSecurityGroup(
    api,
    {
      cluster: spec.name,
      groupName: resourceName,
      vpcId,
      sshCidrs,
      encryptedOverlay: ec2.encryptedOverlay,
      ...(spec.swarm.dataPathPort !== undefined ? { dataPathPort: spec.swarm.dataPathPort } : {}),
    },
    progress,
  );
  created.push(...group.created);
  const userData = image.userData;
  return {
    context: {
      subnets,
      zones: [...new Set(subnets.map((s) => s.zone))],
      securityGroupId: group.id,
      image,
      ...(userData ? { userData } : {}),
      generation,
    },
    created,
  };
}

import { DescribeImagesCommand, DescribeInstanceTypesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DEFAULT_AMI_PARAMETER, DEFAULT_AMI_PARAMETER_ARM64, type Ec2Spec } from '../../config/cluster.ts';
import type { EngineSource } from '../../engine/install-plan.ts';
import type { EngineWanted } from '../../engine/source-choice.ts';
import { errorMessage, InputError } from '../../errors.ts';
import type { AwsApi } from './aws.ts';
import { imageEngine, imageLabel, loginUserOf, type ImageFacts, type ImageFamily } from './image-os.ts';
import { engineUserData } from './user-data.ts';

/** Login user by image name (and description), as the images' own documentation names them. */
export function loginUserFor(imageName: string): string {
  return loginUserOf({ Name: imageName });
}

export interface ImageChoice {
  imageId: string;
  /** Who logs in: configured, else by the image family. */
  user: string;
  /** The image's root device (the disk size applies to it). */
  rootDevice: string;
  family: ImageFamily;
  /** The engine source that works on this image (engine.source, or Amazon Linux's own package by default). */
  engine: { source: EngineSource; version?: string };
  /** For the user: a source replaced, an OS not recognised. */
  note?: string;
  /** cloud-init user data that starts the engine install at boot, where it can. */
  userData?: string;
}

/**
 * The SSM parameter to read the image from: the configured one; the default (Ubuntu 24.04 for amd64) becomes its
 * arm64 twin for an instance type that runs arm64 only (Graviton: t4g, m7g, ...).
 */
export function imageParameterFor(configured: string, architectures: string[]): string {
  const armOnly = architectures.includes('arm64') && !architectures.includes('x86_64');
  return configured === DEFAULT_AMI_PARAMETER && armOnly ? DEFAULT_AMI_PARAMETER_ARM64 : configured;
}

/** Why this image cannot boot on this instance type (its architecture is not one the type runs), if it cannot. */
export function architectureProblem(
  img: ImageFacts,
  instanceType: string,
  architectures: string[],
  from: string,
): string | undefined {
  if (!img.Architecture || architectures.length === 0 || architectures.includes(img.Architecture))
    return undefined;
  return (
    `${from}: ${imageLabel(img)} is built for ${img.Architecture}, but instance type ${instanceType} runs ` +
    `${architectures.join('/')}: pass --ami with an image for ${architectures.join(' or ')}, ` +
    `or an instance type for ${img.Architecture} with --instance-type`
  );
}

/** The architectures an instance type runs; a type the region does not offer is bad input. */
export async function architecturesOf(api: AwsApi, instanceType: string): Promise<string[]> {
  try {
    const r = await api.ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as never] }),
    );
    return r.InstanceTypes?.[0]?.ProcessorInfo?.SupportedArchitectures ?? [];
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceType')
      throw new InputError(`--instance-type: "${instanceType}" is not an instance type of ${api.region}`);
    throw err;
  }
}

async function describeImage(api: AwsApi, imageId: string, from: string) {
  let images;
  try {
    images = await api.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  } catch (err) {
    if (/^InvalidAMIID/.test((err as { name?: string }).name ?? ''))
      throw new InputError(`${from}: AMI ${imageId} not found in ${api.region} (${errorMessage(err)})`);
    throw err;
  }
  const img = images.Images?.[0];
  if (!img) throw new InputError(`${from}: AMI ${imageId} not found in ${api.region}`);
  return img;
}

/**
 * The image to launch and what it means, all decided before anything is made: --ami, else the SSM public parameter
 * (Ubuntu 24.04 for the instance type's architecture by default); refused (bad input) when it cannot be read, is
 * not in the region, does not fit the instance type's architecture, or cannot run the engine source asked for.
 */
export async function resolveImage(api: AwsApi, ec2: Ec2Spec, engine: EngineWanted): Promise<ImageChoice> {
  const architectures = await architecturesOf(api, ec2.instanceType);
  let imageId = ec2.ami;
  let from = '--ami';
  if (!imageId) {
    const parameter = imageParameterFor(ec2.amiParameter, architectures);
    from = `ec2.amiParameter ${parameter}`;
    try {
      const p = await api.ssm.send(new GetParameterCommand({ Name: parameter }));
      imageId = p.Parameter?.Value;
    } catch (err) {
      throw new InputError(
        `AMI: SSM parameter ${parameter} cannot be read (${errorMessage(err)}); pass --ami`,
      );
    }
    if (!imageId) throw new InputError(`AMI: SSM parameter ${parameter} is empty; pass --ami`);
  }
  const img = await describeImage(api, imageId, from);
  const archProblem = architectureProblem(img, ec2.instanceType, architectures, from);
  if (archProblem) throw new InputError(archProblem);
  const decided = imageEngine(img, engine, ec2.user);
  if ('problem' in decided) throw new InputError(decided.problem);
  const userData = engineUserData(decided.family, decided.engine);
  return {
    imageId,
    user: decided.user,
    rootDevice: img.RootDeviceName ?? '/dev/sda1',
    family: decided.family,
    engine: decided.engine,
    ...(decided.note ? { note: decided.note } : {}),
    ...(userData ? { userData } : {}),
  };
}

/** The login user of an instance's image: configured, else by the image's family. */
export async function imageLoginUser(api: AwsApi, ec2: Ec2Spec, imageId: string): Promise<string> {
  if (ec2.user) return ec2.user;
  return loginUserOf(await describeImage(api, imageId, `image ${imageId}`));
}

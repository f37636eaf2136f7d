import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Ec2Spec } from '../../config/cluster.ts';
import { errorMessage, InputError } from '../../errors.ts';
import type { AwsApi } from './aws.ts';

/** Login user by image family, as the images' own documentation names them. */
export function loginUserFor(imageName: string): string {
  const n = imageName.toLowerCase();
  if (n.includes('ubuntu')) return 'ubuntu';
  if (n.includes('debian')) return 'admin';
  if (
    n.includes('amzn') ||
    n.includes('al2023') ||
    n.includes('amazon') ||
    n.includes('rhel') ||
    n.includes('fedora')
  )
    return 'ec2-user';
  return 'ubuntu';
}

export interface ImageChoice {
  imageId: string;
  /** Who logs in: configured, else by the image family. */
  user: string;
  /** The image's root device (the disk size applies to it). */
  rootDevice: string;
}

/**
 * The image to launch: --ami, else the SSM public parameter (Ubuntu 24.04 by default); refused (bad input) when it
 * cannot be read or is not in the region. `known`: an instance's image, to learn its login user.
 */
export async function resolveImage(api: AwsApi, ec2: Ec2Spec, known?: string): Promise<ImageChoice> {
  let imageId = known ?? ec2.ami;
  if (!imageId) {
    try {
      const p = await api.ssm.send(new GetParameterCommand({ Name: ec2.amiParameter }));
      imageId = p.Parameter?.Value;
    } catch (err) {
      throw new InputError(
        `AMI: SSM parameter ${ec2.amiParameter} cannot be read (${errorMessage(err)}); pass --ami`,
      );
    }
    if (!imageId) throw new InputError(`AMI: SSM parameter ${ec2.amiParameter} is empty; pass --ami`);
  }
  const images = await api.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const img = images.Images?.[0];
  if (!img) throw new InputError(`AMI ${imageId} not found in ${api.region}`);
  return {
    imageId,
    user: ec2.user ?? loginUserFor(`${img.Name ?? ''} ${img.Description ?? ''}`),
    rootDevice: img.RootDeviceName ?? '/dev/sda1',
  };
}

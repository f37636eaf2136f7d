import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { errorMessage, InputError } from '../../errors.ts';

/** The narrow surface swarmup uses: `send` of SDK v3 commands. Tests plug a stand-in here (or an emulator). */
export interface AwsApi {
  ec2: Pick<EC2Client, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
  /** STS, for the account the credentials belong to (absent in stand-in clients). */
  sts?: Pick<STSClient, 'send'>;
  region: string;
}

/**
 * The region as the AWS CLI reads the environment: AWS_REGION, else AWS_DEFAULT_REGION (the SDK reads only the
 * first); without either, the SDK reads the profile's (AWS_PROFILE or --profile) from ~/.aws/config. Pure.
 */
export function regionFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/**
 * How every AWS call answers throttling: with the SDK's own retry machinery, not a loop of swarmup's. AWS throttles
 * each API per account and region with token buckets ("Request throttling for the Amazon EC2 API": RunInstances'
 * request bucket holds 5 and refills 2 a second, its resource bucket 1000 instances refilling 2 a second; others
 * hold more) and answers `RequestLimitExceeded` past them. 'adaptive' retries those with exponential backoff and
 * jitter (as the guide asks) and, from the throttles it meets, slows the client's own sending rate, so a run's many
 * calls (1000 nodes: their names, their terminations, the polls) fall back to what the buckets refill instead of
 * spending their attempts. 10 attempts: the SDK's backoff after a throttle (a random pause up to 1 s, doubling,
 * at most 20 s) then spans up to about two minutes, while the SDK's default of 3 attempts gives up within 3 s.
 */
export const AWS_RETRY = { retryMode: 'adaptive', maxAttempts: 10 } as const;

/**
 * AWS SDK v3 clients with the default credential chain (environment, --profile / AWS_PROFILE, SSO, instance
 * roles), the region from --region / AWS_REGION / AWS_DEFAULT_REGION / the profile, AWS_RETRY, and the standard endpoint
 * variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SSM) honoured by the SDK itself.
 * A missing region or missing credentials is bad input (exit 2), said before anything is touched.
 */
export async function connectAws(opts: { region?: string; profile?: string }): Promise<AwsApi> {
  const given = opts.region ?? regionFromEnv(process.env);
  // The versions locked in package-lock.json support Node 20; the SDK's notice about future ones is not for users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const credentials = fromNodeProviderChain(opts.profile ? { profile: opts.profile } : {});
  const common = {
    credentials,
    ...AWS_RETRY,
    // Every AWS call has a deadline: 5 s to connect, 30 s for an answer (then retried as above).
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    ...(given ? { region: given } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
  };
  const ec2 = new EC2Client(common);
  let region = '';
  try {
    region = await ec2.config.region();
  } catch {
    // reported below
  }
  if (!region) {
    throw new InputError(
      'no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set region in your AWS profile ' +
        '(~/.aws/config; AWS_PROFILE or --profile names the profile)',
    );
  }
  try {
    await ec2.config.credentials();
  } catch (err) {
    throw new InputError(
      `no AWS credentials (${errorMessage(err).split('\n')[0]}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ` +
        'pass --profile or set AWS_PROFILE, or sign in with "aws sso login"',
    );
  }
  const ssm = new SSMClient({ ...common, region });
  const sts = new STSClient({ ...common, region });
  return { ec2, ssm, sts, region };
}

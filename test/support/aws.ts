import { EC2Client } from '@aws-sdk/client-ec2';

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

export async function resetMoto(url: string): Promise<void> {
  const r = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!r.ok) throw new Error(`moto reset: ${r.status}`);
}

export function motoEc2(url: string, region = 'eu-west-1'): EC2Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return new EC2Client({
    region,
    endpoint: url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

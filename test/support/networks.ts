import { execa } from 'execa';

const toInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8n) + BigInt(o), 0n);
const toIp = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');

/**
 * An address of a docker network the test run made that nothing holds: neither its gateway nor any container on
 * it (the highest free one of its IPv4 subnet). The one address a test may use where it needs an unreachable host:
 * packets sent to it stay on the run's own bridge.
 */
export async function unusedAddressOf(network: string): Promise<string> {
  const inspected = JSON.parse(
    String((await execa('docker', ['network', 'inspect', network])).stdout),
  ) as Array<{
    IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
    Containers?: Record<string, { IPv4Address?: string }>;
  }>;
  const config = inspected[0]?.IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(':'));
  if (!config?.Subnet) throw new Error(`network ${network} has no IPv4 subnet of its own`);
  const [base, prefix] = config.Subnet.split('/') as [string, string];
  const size = 1n << BigInt(32 - Number(prefix));
  const start = toInt(base) & ~(size - 1n);
  const taken = new Set([
    ...(config.Gateway ? [config.Gateway] : []),
    ...Object.values(inspected[0]?.Containers ?? {}).flatMap((c) =>
      c.IPv4Address ? [c.IPv4Address.split('/')[0]!] : [],
    ),
  ]);
  // From the top down: the last address is the broadcast address, the first the network's own.
  for (let a = start + size - 2n; a > start; a--) if (!taken.has(toIp(a))) return toIp(a);
  throw new Error(`network ${network}: every address of ${config.Subnet} is taken`);
}

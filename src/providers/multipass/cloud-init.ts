import { stringify } from 'yaml';
import type { EngineSource } from '../../engine/install-plan.ts';
import { engineUserData } from '../ec2/user-data.ts';

/** Where swarmup marks a VM as its own: written by cloud-init at creation, read back with `multipass exec`. */
export const MARKER_PATH = '/etc/swarmup/owner';
/** The engine installation started during boot (the EC2 provider's user data for Ubuntu). */
export const ENGINE_SCRIPT_PATH = '/etc/swarmup/engine-install.sh';

/** What the marker says: the cluster, the state home (owner id) that made the VM, and the node. */
export interface Marker {
  cluster: string;
  owner: string;
  node: string;
}

export function markerText(m: Marker): string {
  return `cluster=${m.cluster}\nowner=${m.owner}\nnode=${m.node}\n`;
}

/** The marker read back; undefined when the text is not one (no file, another tool's file). */
export function parseMarker(text: string): Marker | undefined {
  const kv = new Map(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const cluster = kv.get('cluster');
  const owner = kv.get('owner');
  const node = kv.get('node');
  return cluster && owner && node ? { cluster, owner, node } : undefined;
}

/**
 * The VM's cloud-init user data (#cloud-config): the cluster's public key for the image's default user (`ubuntu`),
 * the owner marker, and the engine installation of the EC2 provider's user data, started during boot so it overlaps
 * the launch (the engine step then finds the engine present, or installs it itself). Multipass adds its own key for
 * `multipass shell` beside ours.
 */
export function cloudInit(
  marker: Marker,
  publicKey: string,
  engine: { source: EngineSource; version?: string },
): string {
  const install = engineUserData('ubuntu', engine);
  const config = {
    ssh_authorized_keys: [publicKey],
    write_files: [
      { path: MARKER_PATH, permissions: '0644', owner: 'root:root', content: markerText(marker) },
      ...(install
        ? [{ path: ENGINE_SCRIPT_PATH, permissions: '0755', owner: 'root:root', content: install }]
        : []),
    ],
    ...(install ? { runcmd: [['sh', ENGINE_SCRIPT_PATH]] } : {}),
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

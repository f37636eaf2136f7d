import type { ClusterSpec } from '../config/cluster.ts';

/**
 * What `plan` read before planning, when it did not come from swarmup's own YAML as written: an Ansible
 * inventory's groups, and each host's connection where ~/.ssh/config gave part of it. Pure.
 */
export function renderInputs(spec: ClusterSpec): string[] {
  const lines: string[] = [];
  const inv = spec.inventory;
  if (inv) {
    lines.push(
      `Read ${inv.file} (${inv.format} inventory): managers ${inv.managers.join(', ')}; ` +
        `workers ${inv.workers.length ? inv.workers.join(', ') : 'none'}` +
        (inv.leftOut.length ? `; in neither group, left out: ${inv.leftOut.join(', ')}` : ''),
    );
  }
  const shown = spec.hosts.filter((h) => inv || h.fromSshConfig);
  for (const h of shown) {
    const role = h.role === 'auto' ? '' : ` (${h.role})`;
    const via = h.jump ? ` via ${h.jump.user}@${h.jump.address}:${h.jump.port}` : '';
    const key = h.privateKey ? `, key ${h.privateKey}` : '';
    const config = h.fromSshConfig ? `; from ssh config: ${h.fromSshConfig.join(', ')}` : '';
    lines.push(`  ${h.name}${role}: ${h.user}@${h.address}:${h.port}${via}${key}${config}`);
  }
  return lines;
}

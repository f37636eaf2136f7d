/**
 * `swarmup backup`, the pure parts: which manager is backed up (one non-leader manager, the quorum guard asked
 * first), the script that stops its engine, streams /var/lib/docker/swarm as a tar.gz and starts the engine again,
 * and the manual restore steps. Follows Docker's admin guide, "Back up the swarm": stop the engine so the raft data
 * does not change while it is copied, copy the whole swarm folder, restart; with autolock the unlock key is needed
 * to restore, and it is never put in the archive (it would decrypt the raft data, its secrets and the CA key beside
 * it): it stays in the state folder's `unlock-key`.
 */
import { guardStep } from './quorum.ts';
import { raftManagers, type ClusterNode } from './facts.ts';
import { DOCKERD_RUNS } from '../engine/service.ts';
import { quote } from '../transport/quote.ts';

export type BackupChoice =
  { ok: true; nodeId: string; host: string; single: boolean } | { ok: false; why: string; todo: string };

/**
 * Pick the manager to back up: a reachable, Ready manager that is not the leader and that one of the cluster's
 * hosts is (in the hosts' order); taking it down for the copy must leave quorum (the guard is asked as for the
 * removal of a reachable manager). A swarm of one manager has no other choice than its leader: `single` says the
 * swarm is unavailable while the copy runs.
 */
export function chooseBackupNode(
  nodes: ClusterNode[],
  hosts: Array<{ name: string; nodeId: string }>,
): BackupChoice {
  const count = raftManagers(nodes);
  if (count.total === 0)
    return {
      ok: false,
      why: 'no manager of the swarm answers',
      todo: 'check the cluster with "swarmup status"',
    };
  const hostOf = new Map(hosts.filter((h) => h.nodeId).map((h) => [h.nodeId, h.name]));
  const managers = nodes.filter((n) => n.role === 'manager' && n.reachability !== null && hostOf.has(n.id));
  if (count.total === 1) {
    const only = managers[0];
    if (!only)
      return {
        ok: false,
        why: 'the only manager is not a host of this cluster',
        todo: 'check the inventory',
      };
    return { ok: true, nodeId: only.id, host: hostOf.get(only.id)!, single: true };
  }
  const verdict = guardStep(count, { kind: 'remove', reachable: true });
  if (!verdict.ok)
    return {
      ok: false,
      why: `taking a manager down for the copy would lose quorum: ${verdict.why}`,
      todo: 'nothing was changed; bring the unreachable managers back first ("swarmup up" heals the cluster)',
    };
  const order = new Map(hosts.map((h, i) => [h.name, i]));
  const candidates = managers
    .filter((n) => !n.leader && n.reachability === 'reachable' && n.state === 'ready')
    .sort((a, b) => order.get(hostOf.get(a.id)!)! - order.get(hostOf.get(b.id)!)!);
  const chosen = candidates[0];
  if (!chosen)
    return {
      ok: false,
      why: 'no reachable manager other than the leader is a host of this cluster',
      todo: 'nothing was changed; check the cluster with "swarmup status"',
    };
  return { ok: true, nodeId: chosen.id, host: hostOf.get(chosen.id)!, single: false };
}

/** `backups/<timestamp>-<node>.tar.gz`, the timestamp sortable and free of characters a shell or a file system minds. */
export function backupFileName(now: Date, node: string): string {
  const ts = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '');
  return `${ts}-${node}.tar.gz`;
}

/** The metadata entry the archive starts with (`swarmup-backup.json`). */
export interface BackupMetadata {
  cluster: string;
  node: string;
  nodeId: string;
  clusterId?: string;
  engineVersion: string;
  dockerRootDir: string;
  createdAt: string;
  managers: number;
  /** The swarm was autolocked: restoring needs the unlock key in force when the backup was taken (not in here). */
  autolock?: boolean;
}

/** Metadata as read from an archive; ones made before the key was kept out carry it, and say autolock by it. */
export function readMetadataJson(text: string): BackupMetadata {
  const raw = JSON.parse(text) as BackupMetadata & { unlockKey?: string };
  const { unlockKey, ...meta } = raw;
  return { ...meta, ...(unlockKey || raw.autolock ? { autolock: true } : {}) };
}

/** What a swarmup backup archive must hold to be restored: its metadata first, the node's identity, the raft log. */
export const REQUIRED_MEMBERS = [
  'swarm/docker-state.json',
  'swarm/state.json',
  'swarm/certificates/swarm-node.key',
  'swarm/certificates/swarm-node.crt',
  'swarm/certificates/swarm-root-ca.crt',
];
const RAFT_LOG = /^swarm\/raft\/wal(-v3(-encrypted)?)?\/[^/]+\.wal$/;

/**
 * Why an archive, as read to its end, is not a complete swarmup backup (undefined: it is). `complete`: the gzip
 * stream ended where it should and the tar's end block was reached. Pure.
 */
export function archiveProblem(read: {
  names: string[];
  complete: boolean;
  problem?: string;
}): string | undefined {
  if (read.problem) return read.problem;
  if (!read.complete) return 'the archive is cut short (its end is missing: an interrupted copy?)';
  if (read.names[0] !== METADATA_ENTRY)
    return `its first entry is not ${METADATA_ENTRY}: not a swarmup backup`;
  const missing = REQUIRED_MEMBERS.filter((m) => !read.names.includes(m));
  if (!read.names.some((n) => RAFT_LOG.test(n))) missing.push('swarm/raft/wal-*/*.wal');
  return missing.length > 0 ? `members missing: ${missing.join(', ')}` : undefined;
}

export const METADATA_ENTRY = 'swarmup-backup.json';

/** Bounds, in seconds, of the parts of the script (waits for the engine to stop and to answer again). */
const STOP_WAIT_S = 60;
const START_WAIT_S = 60;

/**
 * The script run (as root) on the chosen manager. stdout carries only the tar.gz of `<root>/swarm`; every message
 * goes to stderr. The engine is started again whatever happened to the copy, even when swarmup or its connection
 * goes away meanwhile: hang-ups and broken pipes are ignored, so a lost reader only makes tar fail. Without systemd
 * (node containers, engines started by hand) the engine is started again with the very command line it ran with.
 */
export function backupScript(dockerRootDir: string): string {
  return [
    'set -u',
    "trap '' HUP PIPE",
    'say() { echo "swarmup backup: $*" >&2; }',
    `root=${quote(dockerRootDir)}`,
    '[ -d "$root/swarm" ] || { say "no $root/swarm on this host"; exit 90; }',
    'if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then',
    '  mode=systemd',
    '  systemctl stop docker.socket docker.service >&2 2>&1 || systemctl stop docker >&2 2>&1 || { say "cannot stop the engine (systemctl stop docker)"; exit 91; }',
    'else',
    '  mode=direct',
    '  pid=$(pgrep -o -r R,S,D -x dockerd 2>/dev/null || pgrep -o -x dockerd) || { say "no dockerd runs"; exit 91; }',
    "  set -f; old=$IFS; IFS='\n'; set -- $(tr '\\0' '\\n' </proc/$pid/cmdline); IFS=$old; set +f",
    '  [ $# -gt 0 ] || { say "cannot read the command line of dockerd ($pid)"; exit 91; }',
    '  kill -TERM "$pid"',
    '  n=0',
    // Until the process is gone or a zombie (PID 1 of a node container reaps nothing).
    '  while st=$(sed -n \'s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p\' /proc/$pid/status 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; do',
    `    n=$((n+1)); [ $n -ge ${STOP_WAIT_S * 10} ] && break; sleep 0.1`,
    '  done',
    'fi',
    'rc=93',
    'if [ $mode = systemd ] && systemctl is-active --quiet docker; then say "the engine did not stop";',
    `elif [ $mode = direct ] && [ -n "$st" ] && [ "$st" != Z ]; then say "dockerd ($pid) did not stop within ${STOP_WAIT_S} s";`,
    'else',
    '  tar -C "$root" -czf - swarm; rc=$?',
    'fi',
    'if [ $mode = systemd ]; then',
    '  systemctl start docker.socket docker.service >&2 2>&1 || systemctl start docker >&2 2>&1 || say "systemctl start docker failed"',
    'else',
    '  pgrep -r R,S,D -x dockerd >/dev/null 2>&1 || ( trap - HUP PIPE; exec setsid nohup "$@" >>/var/log/dockerd.log 2>&1 </dev/null ) &',
    'fi',
    // Its socket back is enough here: whether it answers is asked by swarmup over the connection (no docker CLI).
    'n=0',
    `until [ -S /var/run/docker.sock ] && ${DOCKERD_RUNS}; do`,
    `  n=$((n+1)); [ $n -ge ${START_WAIT_S * 5} ] && { say "the engine made no socket within ${START_WAIT_S} s of its restart"; exit 92; }; sleep 0.2`,
    'done',
    '[ $rc -eq 0 ] || say "tar exited $rc"',
    'exit $rc',
  ].join('\n');
}

/** Where the unlock key of an autolocked backup comes from, for the restore steps (never the key itself). */
export type KeySource =
  | { kind: 'state'; file: string; cluster: string; matches: boolean | undefined }
  | { kind: 'file'; file: string; matches: boolean | undefined };

/** The manual disaster path (Docker's admin guide, "Restore from a backup"), for `backup --restore FILE`. */
export function restoreSteps(
  file: string,
  meta?: Pick<BackupMetadata, 'node' | 'dockerRootDir' | 'autolock' | 'createdAt'>,
  key?: KeySource,
): string[] {
  const root = meta?.dockerRootDir ?? '/var/lib/docker';
  const keyWhere =
    key?.kind === 'state'
      ? `the key "swarmup unlock-key --name ${key.cluster}" prints (kept in ${key.file})`
      : key
        ? `the key in ${key.file}`
        : 'its unlock key';
  return [
    `Restoring ${file}${meta ? ` (taken from ${meta.node})` : ''} makes a new single-manager swarm from it:`,
    '  1. pick the host to restore on (the old manager, or a new machine with the same engine version) and stop',
    '     its engine: systemctl stop docker (without systemd: stop dockerd)',
    `  2. copy ${file} there and replace its swarm data with the archive's: rm -rf ${root}/swarm &&`,
    `     tar -xzf ${file.split('/').pop()} -C ${root} swarm`,
    '  3. start the engine again: systemctl start docker',
    ...(meta?.autolock
      ? [
          '     the swarm was autolocked (the archive does not hold its key): unlock it with docker swarm unlock,',
          `     typing ${keyWhere}`,
          ...(key?.matches === true ? ['     (checked: that key unlocks this archive)'] : []),
        ]
      : []),
    '  4. re-initialise it as a single manager: docker swarm init --force-new-cluster',
    '  5. check it: docker node ls, docker service ls (stale entries of the other nodes show as Down)',
    '  6. rebuild the cluster to its counts: swarmup up (joins managers one at a time, removes stale entries)',
    ...(meta?.autolock ? ['  7. rotate the unlock key: docker swarm unlock-key --rotate'] : []),
  ];
}

import { bootFactsScript, parseBootState, type BootState } from './boot-state.ts';
import { DOCKERD_RUNS } from './service.ts';
import { parseOsRelease, type OsInfo } from './os.ts';

/** Everything the engine step and the pre-flight need from a host, read in one command (one round trip). */
export interface EngineFacts {
  host: string;
  os: OsInfo;
  uid: number;
  user: string;
  /** root: no sudo needed; nopasswd: `sudo -n` works; no: neither. */
  sudo: 'root' | 'nopasswd' | 'no';
  systemd: boolean;
  dockerd: boolean;
  /** Engine version when the daemon answers (to this user directly, or through sudo). */
  serverVersion: string;
  /** A dockerd process runs (the engine is up or starting), whatever answers. */
  dockerdRunning: boolean;
  /** The docker CLI is installed (Debian's docker.io 26+ ships it apart, as docker-cli, only recommended). */
  dockerCli: boolean;
  /** Version of the installed dockerd binary, running or not ('' when absent). */
  dockerdVersion: string;
  /** The user reaches the engine without sudo (root, or in the docker group with a current login). */
  directAccess: boolean;
  inDockerGroup: boolean;
  cloudInit: boolean;
  /** Still booting or installing: cloud-init's status and the package managers running. */
  boot: BootState;
  /** Host clock (seconds since the epoch) when the command ran. */
  clock: number;
  /** Free space (KiB) where the engine keeps its data. */
  diskFreeKiB: number;
  addresses: string[];
}

/** The one command that reads them; it only reads. */
export const engineFactsScript = [
  'echo "uid=$(id -u)"',
  'echo "user=$(id -un)"',
  'if [ "$(id -u)" = 0 ]; then echo sudo=root; elif sudo -n true 2>/dev/null; then echo sudo=nopasswd; else echo sudo=no; fi',
  'echo "pid1=$(cat /proc/1/comm 2>/dev/null)"',
  // dockerd lives in /usr/sbin on Debian (docker.io), outside a non-root user's PATH there.
  'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
  'command -v dockerd >/dev/null 2>&1 && echo dockerd=yes || echo dockerd=no',
  `echo "dockerdversion=$(dockerd --version 2>/dev/null | sed -E 's/^Docker version ([^,]+).*/\\1/')"`,
  // The engine's version as it answers on its socket: through the docker CLI where there is one, else curl, as
  // this user and then through sudo. Nothing here needs the CLI (Debian's docker.io 26+ may come without it).
  'sock=/var/run/docker.sock',
  `apiver() { if command -v docker >/dev/null 2>&1; then $1 docker version --format '{{.Server.Version}}' 2>/dev/null; elif command -v curl >/dev/null 2>&1; then $1 curl -s --max-time 5 --unix-socket $sock http://localhost/version 2>/dev/null | sed -n 's/.*"Version":"\\([^"]*\\)".*/\\1/p'; fi; }`,
  'v=$(apiver "") ; if [ -n "$v" ]; then echo direct=yes; else echo direct=no; v=$(apiver "sudo -n" || true); fi',
  `${DOCKERD_RUNS} && echo running=yes || echo running=no`,
  'command -v docker >/dev/null 2>&1 && echo cli=yes || echo cli=no',
  'echo "server=$v"',
  'id -nG 2>/dev/null | tr " " "\\n" | grep -qx docker && echo group=yes || echo group=no',
  'command -v cloud-init >/dev/null 2>&1 && echo cloudinit=yes || echo cloudinit=no',
  bootFactsScript,
  'echo "clock=$(date +%s.%N)"',
  'd=/var/lib/docker; [ -d $d ] || d=/var/lib; echo "disk=$(df -Pk $d | awk \'NR==2 {print $4}\')"',
  `echo "addrs=$(ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | tr '\\n' ' ')"`,
  'echo ---os-release---',
  'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
].join('\n');

export function parseEngineFacts(host: string, stdout: string): EngineFacts {
  const [head = '', osText = ''] = stdout.split('---os-release---');
  const kv = new Map<string, string>();
  for (const line of head.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const uid = Number(kv.get('uid') ?? NaN);
  return {
    host,
    os: parseOsRelease(osText),
    uid,
    user: kv.get('user') ?? '',
    sudo: (kv.get('sudo') as EngineFacts['sudo']) ?? 'no',
    systemd: kv.get('pid1') === 'systemd',
    dockerd: kv.get('dockerd') === 'yes',
    serverVersion: kv.get('server') ?? '',
    dockerdRunning: kv.get('running') === 'yes',
    dockerCli: kv.get('cli') === 'yes',
    dockerdVersion: kv.get('dockerdversion') ?? '',
    directAccess: kv.get('direct') === 'yes',
    inDockerGroup: kv.get('group') === 'yes',
    cloudInit: kv.get('cloudinit') === 'yes',
    boot: parseBootState(kv),
    clock: Number(kv.get('clock') ?? NaN),
    diskFreeKiB: Number(kv.get('disk') ?? NaN),
    addresses: (kv.get('addrs') ?? '').split(/\s+/).filter(Boolean),
  };
}

/**
 * A stand-in for the `multipass` command, for tests only: Multipass cannot run here (no nested virtualisation).
 * Put this folder first on PATH. It implements launch, list, info, exec, start, delete [--purge], purge and version
 * with Multipass's command lines and JSON output shapes, and makes each "VM" a node container from the docker
 * provider's node image (Debian with docker.io and sshd) that boots from the SAME cloud-init file swarmup passes on
 * `--cloud-init -`: it creates the image's default user `ubuntu` (passwordless sudo, as Ubuntu's cloud images
 * have), installs `ssh_authorized_keys` for it, writes `write_files`, starts sshd and the engine, then runs
 * `runcmd` and reports the boot finished. The VM's address is the container's on a bridge network, reachable
 * from this machine.
 *
 * Environment: MULTIPASS_STAND_IN_HOME (required): a folder for its state (deleted VMs) and calls.log (one JSON
 * array of arguments per call); MULTIPASS_STAND_IN_RUN (required): the test run's id: the stand-in's label carries
 * it and its network is named with it, so it sees and touches only the VMs of its own run on a shared engine (the
 * VM names, the containers' names, come from the test and carry the run id too);
 * MULTIPASS_STAND_IN_IMAGE: the node image (default swarmup/node:bookworm-1).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const HOME = process.env.MULTIPASS_STAND_IN_HOME;
const RUN = process.env.MULTIPASS_STAND_IN_RUN;
const IMAGE = process.env.MULTIPASS_STAND_IN_IMAGE || 'swarmup/node:bookworm-1';
const NETWORK = `swarmup-multipass-stand-in-${RUN}`;
/** On every container and the network it makes: `swarmup-test.multipass-stand-in=<run id>`. */
const LABEL = `swarmup-test.multipass-stand-in=${RUN}`;
const DOCKER_TIMEOUT_MS = 60_000;

if (!HOME) fail('multipass stand-in: MULTIPASS_STAND_IN_HOME is not set', 1);
if (!RUN || !/^[a-z0-9][a-z0-9-]*$/.test(RUN))
  fail('multipass stand-in: MULTIPASS_STAND_IN_RUN (the test run id: lower case, digits, -) is not set', 1);
mkdirSync(join(HOME, 'deleted'), { recursive: true });
const args = process.argv.slice(2);
appendFileSync(join(HOME, 'calls.log'), JSON.stringify(args) + '\n');

function fail(message, code = 2) {
  process.stderr.write(message + '\n');
  process.exit(code);
}

function docker(dockerArgs, opts = {}) {
  const r = spawnSync('docker', dockerArgs, { encoding: 'utf8', timeout: DOCKER_TIMEOUT_MS, ...opts });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

const isDeleted = (name) => existsSync(join(HOME, 'deleted', name));

/** Every stand-in VM: name, state as Multipass prints it, IPv4 addresses. */
function vms(names) {
  const ps = docker(['ps', '-a', '--filter', `label=${LABEL}`, '--format', '{{.Names}}']);
  const all = ps.stdout.split('\n').filter(Boolean).sort();
  const wanted = names ?? all;
  if (wanted.length === 0) return [];
  const present = wanted.filter((n) => all.includes(n));
  const inspected = present.length ? JSON.parse(docker(['inspect', ...present]).stdout || '[]') : [];
  return wanted.map((name) => {
    const c = inspected.find((x) => x.Name === `/${name}`);
    if (!c) return { name, missing: true };
    const running = c.State?.Running === true;
    const ip = c.NetworkSettings?.Networks?.[NETWORK]?.IPAddress;
    const state = isDeleted(name) ? 'Deleted' : running ? 'Running' : 'Stopped';
    return {
      name,
      state,
      ipv4: state === 'Running' && ip ? [ip] : [],
      release: running ? 'Debian 12 (stand-in)' : '',
    };
  });
}

function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The boot of a "VM": the cloud-config's user, key and files, then sshd and the engine, then runcmd. */
function bootScript(name, config) {
  const keys = config.ssh_authorized_keys ?? [];
  const lines = [
    'set -eu',
    'id ubuntu >/dev/null 2>&1 || useradd -m -s /bin/bash ubuntu',
    "echo 'ubuntu ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users",
    'mkdir -p /home/ubuntu/.ssh',
    `printf '%s\\n' ${keys.map(q).join(' ')} > /home/ubuntu/.ssh/authorized_keys`,
    'chown -R ubuntu:ubuntu /home/ubuntu/.ssh && chmod 700 /home/ubuntu/.ssh && chmod 600 /home/ubuntu/.ssh/authorized_keys',
  ];
  for (const f of config.write_files ?? []) {
    const b64 = Buffer.from(String(f.content ?? '')).toString('base64');
    lines.push(`mkdir -p "$(dirname ${q(f.path)})"`, `echo ${q(b64)} | base64 -d > ${q(f.path)}`);
    if (f.permissions) lines.push(`chmod ${q(f.permissions)} ${q(f.path)}`);
  }
  const runcmd = (config.runcmd ?? []).map((c) => (Array.isArray(c) ? c.map(q).join(' ') : String(c)));
  lines.push(
    'ssh-keygen -A >/dev/null',
    'mkdir -p /run/sshd',
    '/usr/sbin/sshd -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no',
    'rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid /run/stand-in-boot-finished',
    `dockerd --cgroup-parent /swarmup-mp-${RUN}-${name} >/var/log/dockerd.log 2>&1 &`,
    `( ${runcmd.length ? runcmd.join(' && ') : 'true'} ) >/var/log/cloud-init-output.log 2>&1 || echo "runcmd failed: $?" >>/var/log/cloud-init-output.log`,
    'touch /run/stand-in-boot-finished',
    'exec sleep infinity',
  );
  return lines.join('\n');
}

function launch() {
  const name = option('--name') ?? option('-n');
  if (!name) fail('launch failed: the stand-in needs --name');
  const timeoutS = Number(option('--timeout', '300'));
  const source = option('--cloud-init');
  const text =
    source === '-' ? readFileSync(0, 'utf8') : source ? readFileSync(source, 'utf8') : '#cloud-config\n';
  if (!text.startsWith('#cloud-config'))
    fail('launch failed: the stand-in applies #cloud-config user data only');
  const config = parse(text) ?? {};
  if (vms([name])[0].missing !== true) fail(`launch failed: instance "${name}" already exists`);
  if (docker(['network', 'inspect', NETWORK]).code !== 0) {
    const made = docker(['network', 'create', '--label', LABEL, NETWORK]);
    if (made.code !== 0 && docker(['network', 'inspect', NETWORK]).code !== 0)
      fail(`launch failed: ${made.stderr}`);
  }
  const boot = Buffer.from(bootScript(name, config)).toString('base64');
  const run = docker([
    'run',
    '-d',
    '--name',
    name,
    '--hostname',
    name,
    '--label',
    LABEL,
    '--network',
    NETWORK,
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '--cgroupns',
    'host',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '-v',
    '/var/lib/docker',
    '-e',
    `STAND_IN_BOOT=${boot}`,
    IMAGE,
    'sh',
    '-c',
    'echo "$STAND_IN_BOOT" | base64 -d > /stand-in-boot.sh && exec sh /stand-in-boot.sh',
  ]);
  if (run.code !== 0) fail(`launch failed: ${run.stderr.trim()}`);
  // As Multipass does: return once the instance has booted and cloud-init has finished.
  const deadline = Date.now() + timeoutS * 1000;
  while (docker(['exec', name, 'test', '-f', '/run/stand-in-boot-finished']).code !== 0) {
    if (Date.now() > deadline) fail('launch failed: timed out waiting for initialization to complete');
    if (vms([name])[0].state !== 'Running')
      fail(`launch failed: ${docker(['logs', '--tail', '5', name]).stderr}`);
    spawnSync('sleep', ['0.3']);
  }
  process.stdout.write(`Launched: ${name}\n`);
}

function requireFormatJson() {
  if (option('--format') !== 'json') fail('the stand-in prints --format json only');
}

function list() {
  requireFormatJson();
  const out = vms().map(({ name, state, ipv4, release }) => ({
    name,
    state,
    ipv4,
    release,
    zone: { name: '', available: true },
  }));
  process.stdout.write(JSON.stringify({ list: out }, null, 4) + '\n');
}

function info() {
  requireFormatJson();
  const names = args.slice(1).filter((a, i, all) => !a.startsWith('--') && all[i] !== 'json');
  const found = vms(names.length ? names : undefined);
  const missing = found.filter((v) => v.missing);
  if (missing.length)
    fail(
      `info failed: The following errors occurred:\n${missing.map((v) => `instance "${v.name}" does not exist`).join('\n')}`,
    );
  const info = Object.fromEntries(
    found.map((v) => [
      v.name,
      { state: v.state, ipv4: v.ipv4, release: v.release, image_release: 'stand-in' },
    ]),
  );
  process.stdout.write(JSON.stringify({ errors: [], info }, null, 4) + '\n');
}

function remove(name) {
  const r = docker(['rm', '-f', '-v', name]);
  if (r.code !== 0) fail(`purge failed: ${r.stderr.trim()}`);
  rmSync(join(HOME, 'deleted', name), { force: true });
}

function del() {
  const purge = args.includes('--purge') || args.includes('-p');
  const names = args.slice(1).filter((a) => !a.startsWith('-'));
  const found = vms(names);
  const missing = found.filter((v) => v.missing);
  if (missing.length)
    fail(`delete failed: ${missing.map((v) => `instance "${v.name}" does not exist`).join('\n')}`);
  for (const { name } of found) {
    if (purge) remove(name);
    else {
      docker(['stop', '-t', '1', name]);
      writeFileSync(join(HOME, 'deleted', name), '');
    }
  }
}

function purgeAll() {
  for (const v of vms()) if (v.state === 'Deleted') remove(v.name);
}

function exec() {
  const name = args[1];
  const dash = args.indexOf('--');
  const command = dash >= 0 ? args.slice(dash + 1) : args.slice(2);
  const vm = vms([name])[0];
  if (vm.missing) fail(`exec failed: instance "${name}" does not exist`);
  if (vm.state !== 'Running') fail(`exec failed: instance "${name}" is not running`);
  const r = spawnSync('docker', ['exec', '-u', 'ubuntu', name, ...command], {
    stdio: 'inherit',
    timeout: DOCKER_TIMEOUT_MS,
  });
  process.exit(r.status ?? 1);
}

function start() {
  for (const name of args.slice(1)) {
    if (isDeleted(name)) fail(`start failed: instance "${name}" is deleted`);
    const r = docker(['start', name]);
    if (r.code !== 0) fail(`start failed: ${r.stderr.trim()}`);
  }
}

function stop() {
  for (const name of args.slice(1)) {
    if (isDeleted(name)) fail(`stop failed: instance "${name}" is deleted`);
    const r = docker(['stop', '-t', '30', name]);
    if (r.code !== 0) fail(`stop failed: ${r.stderr.trim()}`);
  }
}

const commands = {
  launch,
  stop,
  list,
  ls: list,
  info,
  delete: del,
  purge: purgeAll,
  exec,
  start,
  version: () => process.stdout.write('multipass   1.14.0+stand-in\n'),
};
const command = commands[args[0]];
if (!command) fail(`the multipass stand-in does not implement "${args[0] ?? ''}"`);
command();

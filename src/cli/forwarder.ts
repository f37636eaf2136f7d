import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { runTool } from './run-tool.ts';
import { StepError } from '../errors.ts';
import { forwardArgv, MAX_SOCKET_PATH } from './ssh-config.ts';

/**
 * The cluster's Docker API on a local unix socket (`<state>/docker.sock`, in the 0700 state folder): the system
 * ssh forwards it to a manager's /var/run/docker.sock, with swarmup's ssh_config (pinned host keys, the cluster's
 * key, the bastion). The process outlives the command that starts it; its pid is in `<state>/forward.pid`, its
 * messages in `<state>/forward.log`; `down` stops it, `up`, `scale`, `recover` and `env` (re)start it.
 */
export const REMOTE_DOCKER_SOCKET = '/var/run/docker.sock';

export function forwardPaths(stateDir: string) {
  return {
    socket: join(stateDir, 'docker.sock'),
    pid: join(stateDir, 'forward.pid'),
    log: join(stateDir, 'forward.log'),
    config: join(stateDir, 'ssh_config'),
  };
}

/** One Engine API GET over the socket, within a deadline; undefined when nothing (or an error) answers. */
export function socketGet(socket: string, path: string, deadlineMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    // No keep-alive (Node's global agent keeps sockets open by default): an idle connection to the forwarder would
    // keep the command from exiting until the far end closes it.
    const req = request(
      { socketPath: socket, path, method: 'GET', timeout: deadlineMs, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** The socket answers, from a swarm manager (Swarm.ControlAvailable): `docker node ls` will work through it. */
export async function managerAnswers(socket: string, deadlineMs = 5_000): Promise<boolean> {
  const info = await socketGet(socket, '/info', deadlineMs);
  if (!info) return false;
  try {
    return (JSON.parse(info) as { Swarm?: { ControlAvailable?: boolean } }).Swarm?.ControlAvailable === true;
  } catch {
    return false;
  }
}

/** The recorded forwarder, if that pid is still an ssh forwarding this very socket (never another process). */
async function runningPid(stateDir: string): Promise<number | undefined> {
  const p = forwardPaths(stateDir);
  if (!existsSync(p.pid)) return undefined;
  const pid = Number(readFileSync(p.pid, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const ps = await runTool('ps', ['-p', String(pid), '-o', 'args='], 5_000);
  return ps.exitCode === 0 && String(ps.stdout).includes(`${p.socket}:`) ? pid : undefined;
}

/** Stop the cluster's forwarder (if it runs) and remove its socket and pid file. Returns whether one ran. */
export async function stopForwarder(stateDir: string): Promise<boolean> {
  const p = forwardPaths(stateDir);
  const pid = await runningPid(stateDir);
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
    for (let i = 0; i < 50 && (await runningPid(stateDir)) !== undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(p.pid, { force: true });
  rmSync(p.socket, { force: true });
  return pid !== undefined;
}

/**
 * Start a forwarder to `node` (an ssh_config Host of `<state>/ssh_config`) and wait, within `deadlineMs`, until a
 * swarm manager answers through it. A node that is no manager, or an ssh that fails (its message is in the
 * error), leaves no process behind.
 */
export async function startForwarder(stateDir: string, node: string, deadlineMs = 20_000): Promise<void> {
  const p = forwardPaths(stateDir);
  if (p.socket.length > MAX_SOCKET_PATH)
    throw new StepError(
      node,
      'forward the Docker socket',
      `${p.socket} is longer than a unix socket path may be (${MAX_SOCKET_PATH}); use a shorter SWARMUP_HOME`,
    );
  await stopForwarder(stateDir);
  const log = openSync(p.log, 'w', 0o600);
  const child = spawn('ssh', forwardArgv(p.config, node, p.socket, REMOTE_DOCKER_SOCKET), {
    detached: true,
    stdio: ['ignore', 'ignore', log],
  });
  closeSync(log);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  child.on('error', (err) => (exited = err.message));
  child.unref();
  if (child.pid) writeFileSync(p.pid, `${child.pid}\n`, { mode: 0o600 });
  const until = Date.now() + deadlineMs;
  while (exited === undefined && Date.now() < until) {
    if (existsSync(p.socket) && (await managerAnswers(p.socket, 3_000))) {
      // The socket is root on the cluster: its owner alone (its folder is 0700 as well).
      chmodSync(p.socket, 0o600);
      return;
    }
    await new Promise((r) => setTimeout(r, 50)); // a local socket: looking is cheap, waiting is not
  }
  const why = exited
    ? `ssh ended (${exited}): ${readFileSync(p.log, 'utf8').trim() || 'no message'}`
    : existsSync(p.socket)
      ? 'no swarm manager answers through the socket (not a manager, or its sshd forbids stream-local forwarding)'
      : `no answer within ${deadlineMs / 1000} s: ${readFileSync(p.log, 'utf8').trim() || 'no message'}`;
  await stopForwarder(stateDir);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  throw new StepError(node, 'forward the Docker socket', why);
}

/** The forwarder runs and a manager answers through it. */
export async function forwarderAnswers(stateDir: string): Promise<boolean> {
  if ((await runningPid(stateDir)) === undefined) return false;
  return managerAnswers(forwardPaths(stateDir).socket);
}

import { connect } from 'node:net';
import type Docker from 'dockerode';
import { StepError } from '../../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A node container that does not run (c: its listing, if any): why, from its state and the last lines it wrote (a
 * bad image says so).
 */
export async function whyNotRunning(
  docker: Docker,
  name: string,
  c: Docker.ContainerInfo | undefined,
): Promise<StepError> {
  if (!c) return new StepError(name, 'find node container', 'no container of that name');
  const container = docker.getContainer(c.Id);
  const inspect = (await container.inspect()) as {
    State?: { Status?: string; ExitCode?: number; Restarting?: boolean };
    RestartCount?: number;
  };
  const logs = await container
    .logs({ stdout: true, stderr: true, tail: 5 })
    .then((b) => demux(b as unknown as Buffer))
    .catch(() => '');
  const state = inspect.State;
  const what =
    state?.Restarting || (inspect.RestartCount ?? 0) > 0
      ? 'it stops as soon as it boots'
      : `it is ${state?.Status ?? c.State}${state?.ExitCode ? ` (exit ${state.ExitCode})` : ''}`;
  return new StepError(name, 'boot node container', `${what}${logs ? `: ${logs}` : ''} (image ${c.Image})`);
}

/**
 * Wait until the node's sshd greets (what the first SSH connection would wait for anyway), or fail at once, with
 * what the container wrote (whyNot), when it stops: an image without sshd or dockerd says so in its log.
 */
export async function waitBooted(
  name: string,
  container: Docker.Container,
  whyNot: () => Promise<StepError>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await container.inspect()) as {
      State?: { Running?: boolean; Restarting?: boolean };
      RestartCount?: number;
      NetworkSettings?: { Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> };
    };
    // Its restart policy brings a node whose boot failed back, to fail again: stopped is not the only sign.
    if (!info.State?.Running || info.State.Restarting || (info.RestartCount ?? 0) > 0) throw await whyNot();
    const port = Number(
      info.NetworkSettings?.Ports?.['22/tcp']?.find((p) => p.HostIp === '127.0.0.1')?.HostPort,
    );
    if (port && (await sshGreets(port))) return;
    if (Date.now() > deadline)
      throw new StepError(
        name,
        'boot node container',
        `its sshd did not answer within ${timeoutMs / 1000} s`,
      );
    await sleep(100);
  }
}

/** Whether an SSH server greets on 127.0.0.1:port within half a second (docker-proxy accepts before sshd runs). */
function sshGreets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** The text of a container log as the Engine API sends it (8-byte frame headers without a terminal). */
function demux(buf: Buffer): string {
  const out: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  const lines = (out.length > 0 ? out.join('') : buf.toString('utf8')).trim().split('\n');
  return [...new Set(lines.slice(-3))].join(' / ');
}

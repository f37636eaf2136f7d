import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { ExpiredTokenException } from '@aws-sdk/client-sts';
import Docker from 'dockerode';
import { Server } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hintContext, hintFor } from '../../src/cli/hints.ts';
import { HostKeyChangedError, InputError, StepError, StepErrors } from '../../src/errors.ts';
import { unreachableMessage } from '../../src/engine/port-probe.ts';
import { connectAws } from '../../src/providers/ec2/aws.ts';
import { chooseSwarm } from '../../src/swarm/choose-swarm.ts';
import { parseInfo, parseNodes } from '../../src/swarm/facts.ts';
import { waitForEngine } from '../../src/swarm/engine.ts';
import { withDeadline } from '../../src/transport/deadline.ts';
import { KnownHostsFile } from '../../src/transport/known-hosts.ts';
import { SshConnection } from '../../src/transport/ssh-connection.ts';
import { generateEd25519 } from '../../src/state/cluster-key.ts';

/**
 * The hint after an error, over errors as the code paths make them: real SSH handshakes against an in-process sshd
 * (ssh2's Server) on loopback, the real known_hosts pinning, a real Docker client against a closed socket, the
 * planner on captured engine states, the SDKs' own exception classes. Where a text comes from outside (the docker
 * CLI's dial-stdio, Node's resolver), it is the text seen on this machine, said so beside it.
 */

const dir = mkdtempSync(join(tmpdir(), 'swarmup-hints-'));
const closedPort = () =>
  new Promise<number>((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => res(port));
    });
  });

/** An sshd that refuses every login, with a host key of its own. */
function refusingSshd(): Promise<{ port: number; close: () => void }> {
  // Never one of the keys ssh2's generator malforms (about 1 in 256, then Server refuses it: a CI run met one).
  const hostKey = generateEd25519('hints-sshd').private;
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => ctx.reject());
    client.on('error', () => undefined);
  });
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () =>
      res({ port: (server.address() as AddressInfo).port, close: () => server.close() }),
    ),
  );
}

function writeKey(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, generateEd25519(name).private, { mode: 0o600 });
  return path;
}

const caught = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
};

describe('hints for SSH failures', () => {
  let sshd: { port: number; close: () => void };
  let other: { port: number; close: () => void };
  beforeAll(async () => {
    sshd = await refusingSshd();
    other = await refusingSshd();
  });
  afterAll(() => {
    sshd.close();
    other.close();
  });

  it('ssh-auth: a refused key names the user, the key and ssh-copy-id with the port', async () => {
    const key = writeKey('id_wrong');
    const err = await caught(
      SshConnection.connect(
        { name: 'node-1', address: '127.0.0.1', port: sshd.port, user: 'deploy', privateKey: key },
        { knownHosts: new KnownHostsFile(join(dir, 'kh-auth')) },
      ),
    );
    expect((err as Error).message).toMatch(
      /node-1: connect over SSH: .*All configured authentication methods failed/,
    );
    const hint = hintFor(err);
    expect(hint).toContain(`refused deploy@127.0.0.1 port ${sshd.port} with key ${key}`);
    expect(hint).toContain(`ssh-copy-id -i ${key}.pub -p ${sshd.port} deploy@127.0.0.1`);
    expect(hint).toContain('ssh.privateKey');
  });

  it('ssh-auth: with ssh-agent (no privateKey), says the agent keys were tried; several hosts are counted', async () => {
    const agent = join(dir, 'no-agent.sock');
    vi.stubEnv('SSH_AUTH_SOCK', agent);
    const net = await import('node:net');
    // An agent that holds no key: it answers the identities request with an empty list.
    const agentServer = net.createServer((s) =>
      s.on('data', () => s.write(Buffer.from([0, 0, 0, 5, 12, 0, 0, 0, 0]))),
    );
    await new Promise<void>((r) => agentServer.listen(agent, r));
    try {
      const errs = await Promise.all(
        ['node-1', 'node-2'].map((name) =>
          caught(
            SshConnection.connect(
              { name, address: '127.0.0.1', port: sshd.port, user: 'root' },
              { knownHosts: new KnownHostsFile(join(dir, 'kh-agent')) },
            ),
          ),
        ),
      );
      const hint = hintFor(new StepErrors(errs as Error[]));
      expect(hint).toMatch(
        /^node-1 and 1 more refused root@127\.0\.0\.1 port \d+ with the keys of ssh-agent/,
      );
      expect(hint).toContain('ssh-add');
    } finally {
      agentServer.close();
      vi.unstubAllEnvs();
    }
  });

  it('host-key-changed: names the known_hosts file, the line to remove and ssh-keygen -R', async () => {
    const file = join(dir, 'kh-changed');
    writeFileSync(file, '# pinned by swarmup\nnode-0 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther\n');
    const target = (port: number) => ({
      name: 'node-5',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKey: writeKey('id_any'),
      hostKeyAlias: 'lab-node-5',
    });
    // The first login pins the key of one sshd (the login itself is refused); another sshd under the same name
    // has another key.
    await caught(SshConnection.connect(target(sshd.port), { knownHosts: new KnownHostsFile(file) }));
    const err = await caught(
      SshConnection.connect(target(other.port), { knownHosts: new KnownHostsFile(file) }),
    );
    expect(err).toBeInstanceOf(HostKeyChangedError);
    expect(readFileSync(file, 'utf8').split('\n')[2]).toMatch(/^lab-node-5 ssh-ed25519 /);
    const hint = hintFor(err);
    expect(hint).toContain(`remove line 3 of ${file}`);
    expect(hint).toContain(`ssh-keygen -R 'lab-node-5' -f ${file}`);
    // The message alone (an error that lost its fields) still gives the file.
    expect(hintFor(new InputError((err as Error).message))).toContain(`the lab-node-5 line of ${file}`);
  });

  it('ssh-unreachable: nothing listens on the port: check the address, or the node container (docker)', async () => {
    const port = await closedPort();
    const err = await caught(
      SshConnection.connect(
        { name: 'ghost', address: '127.0.0.1', port, user: 'root', privateKey: writeKey('id_x') },
        { knownHosts: new KnownHostsFile(join(dir, 'kh-closed')) },
      ),
    );
    expect(hintFor(err, { provider: 'ssh' })).toBe(
      `nothing answers SSH at 127.0.0.1:${port} for ghost: check its address and port in the inventory, that it is up and sshd runs, and that no firewall drops the port`,
    );
    expect(hintFor(err, { provider: 'docker', cluster: 'lab' })).toContain(
      'docker ps -a --filter label=swarmup.cluster=lab',
    );
  });
});

describe('hints for Docker engines that do not answer', () => {
  it('engine-on-host: the docker CLI bridge failing (ssh provider) points at systemctl status docker', () => {
    // What `docker system dial-stdio` (Docker 20.10) printed here on a node whose engine was stopped.
    const err = new StepError(
      'node-2',
      'read swarm facts',
      'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: no such file or directory',
    );
    expect(hintFor(err, { cluster: 'lab', provider: 'ssh', config: 'lab.yaml' })).toBe(
      'the Docker engine of node-2 does not answer: swarmup ssh -c lab.yaml node-2 -- systemctl status docker ' +
        '(then sudo systemctl start docker, or journalctl -u docker for why it stopped)',
    );
    const newer = new StepError(
      'node-2',
      'engine facts',
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    );
    expect(hintFor(newer, { cluster: 'lab' })).toContain(
      'swarmup ssh --name lab node-2 -- systemctl status docker',
    );
  });

  it('engine-on-host: an engine API deadline says the same and offers --timeout; the docker provider lists its containers', async () => {
    const err = await caught(
      withDeadline(new Promise(() => undefined), 20, 'node-1: the Docker engine: info'),
    );
    const wrapped = new StepError('lab-manager-1', 'read swarm facts', (err as Error).message);
    const hint = hintFor(wrapped, { cluster: 'lab', provider: 'docker' });
    expect(hint).toContain('docker ps --filter label=swarmup.cluster=lab');
    expect(hint).toContain('swarmup ssh --name lab lab-manager-1 -- pgrep -a dockerd');
    expect(hint).toContain('--timeout SECONDS');
  });

  it('engine-on-host: waitForEngine giving up on an engine that refuses', async () => {
    const port = await closedPort();
    const err = await caught(waitForEngine(new Docker({ host: '127.0.0.1', port }), 300));
    const hint = hintFor(new StepError('node-3', 'wait for the engine', (err as Error).message), {
      provider: 'ec2',
      cluster: 'prod',
    });
    expect(hint).toContain('swarmup ssh --name prod node-3 -- systemctl status docker');
  });

  it("local-engine: the docker provider's own engine (a socket nobody serves) names DOCKER_HOST", async () => {
    const sock = join(dir, 'no-engine.sock');
    const err = await caught(new Docker({ socketPath: sock }).ping());
    expect((err as Error).message).toBe(`connect ENOENT ${sock}`);
    const ctx = hintContext({ provider: 'docker' }, { DOCKER_HOST: `unix://${sock}` });
    expect(hintFor(err, ctx)).toBe(
      `the Docker engine at unix://${sock} does not answer: is it running here (docker info)? DOCKER_HOST or --docker-context chooses another engine`,
    );
  });
});

describe('hints for the swarm', () => {
  it('port-blocked: every blocked port named with its direction and hosts, grouped per pair', () => {
    // As preflight() throws them (src/engine/ensure.ts): one StepError per port and target.
    const problems = [
      { host: 'node1', message: unreachableMessage('2377/tcp', 'node2', '10.0.0.11') },
      { host: 'node1', message: unreachableMessage('7946/tcp', 'node2', '10.0.0.11') },
      { host: 'node3', message: unreachableMessage('4789/udp', 'node1', '10.0.0.13') },
    ];
    const err = new StepErrors(problems.map((p) => new StepError(p.host, 'pre-flight (ports)', p.message)));
    expect(hintFor(err)).toBe(
      'open 2377/tcp, 7946/tcp from node2 to node1 (10.0.0.11); 4789/udp from node1 to node3 (10.0.0.13) in the ' +
        'firewall or security group, then run again',
    );
  });

  it('quorum-lost: the planner refusing a swarm without its majority points at swarmup recover', () => {
    const path = resolve(import.meta.dirname, '../fixtures/engines/quorum-lost-settled.json');
    const fixture = JSON.parse(readFileSync(path, 'utf8')) as {
      hosts: Array<{ host: string; info: unknown; nodes?: unknown; nodesError?: string }>;
    };
    const facts = fixture.hosts.map((h) => {
      const f = parseInfo(h.host, '', h.info as never);
      if (f.isManager) {
        if (h.nodes) f.nodes = parseNodes(h.nodes as never);
        else f.nodesError = h.nodesError ?? 'no answer';
      }
      return f;
    });
    const err = (() => {
      try {
        // Machines made for this cluster (ownMachines): members of a swarm whose managers cannot list it.
        chooseSwarm(facts, facts.find((f) => f.clusterId)?.clusterId, true);
      } catch (e) {
        return e;
      }
    })();
    expect((err as Error).name).toBe('QuorumLostError');
    expect(hintFor(err, { cluster: 'fx' })).toBe(
      'if the lost managers cannot come back, swarmup recover --name fx --yes rebuilds from a surviving manager (docs/day-two.md, "Life after bring-up")',
    );
  });
});

describe('hints for AWS', () => {
  const awsEnv = () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) vi.stubEnv(k, undefined as never);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-aws-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-aws-credentials'));
  };

  it('aws-credentials: none found (connectAws) says AWS_PROFILE and aws sso login; with a profile, names it', async () => {
    awsEnv();
    try {
      const err = await caught(connectAws({ region: 'eu-west-1' }));
      expect((err as Error).message).toMatch(/^no AWS credentials \(Could not load credentials/);
      expect(hintFor(err)).toContain('set AWS_PROFILE=PROFILE');
      expect(hintFor(err)).toContain('aws sso login --profile PROFILE');
      const ctx = hintContext({ provider: 'ec2' }, { AWS_PROFILE: 'dev' });
      expect(hintFor(err, ctx)).toMatch(/^profile dev gave no credentials: aws sso login --profile dev/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('aws-region: none given (connectAws) shows --region and aws configure set region', async () => {
    awsEnv();
    try {
      const err = await caught(connectAws({}));
      expect((err as Error).message).toMatch(/^no AWS region/);
      expect(hintFor(err, { profile: 'dev' })).toContain('aws configure set region eu-west-1 --profile dev');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('aws-region: a region name that does not resolve (as Node words it) is named', () => {
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND ec2.eu-wast-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    });
    expect(hintFor(err)).toContain('is "eu-wast-1" a region (aws ec2 describe-regions lists them)?');
  });

  it('aws-credentials: an expired token (STS) says aws sso login with the profile', () => {
    const err = new ExpiredTokenException({
      message: 'The security token included in the request is expired',
      $metadata: {},
    });
    expect(hintFor(err, { profile: 'ops' })).toBe(
      'the AWS credentials have expired: sign in again (aws sso login --profile ops) or renew the session keys; aws sts get-caller-identity --profile ops checks them',
    );
  });

  it('aws-credentials: keys AWS does not know (EC2 AuthFailure, STS InvalidClientTokenId), also when a step wrapped them', () => {
    const ec2 = new EC2ServiceException({
      name: 'AuthFailure',
      $fault: 'client',
      message: 'AWS was not able to validate the provided access credentials',
      $metadata: {},
    });
    expect(hintFor(ec2)).toMatch(
      /^AWS does not accept these credentials: aws sts get-caller-identity shows whose/,
    );
    const wrapped = new StepError(
      'lab-manager-1',
      'launch instance',
      'The security token included in the request is invalid.',
    );
    expect(hintFor(wrapped, { profile: 'x' })).toMatch(
      /^AWS does not accept these credentials \(profile x\)/,
    );
  });

  it('aws-denied: UnauthorizedOperation points at the documented IAM policy and how to decode the message', () => {
    const err = new EC2ServiceException({
      name: 'UnauthorizedOperation',
      $fault: 'client',
      message:
        'You are not authorized to perform this operation. Encoded authorization failure message: AbCd',
      $metadata: {},
    });
    const hint = hintFor(new StepError('lab-worker-1', 'launch instance', err.message));
    expect(hint).toContain('docs/providers/ec2.md, "IAM policy"');
    expect(hint).toContain('aws sts decode-authorization-message');
    expect(hintFor(err)).toContain('swarmup plan --provider ec2 checks every one');
  });
});

describe('no hint', () => {
  it('none: bad input and failures no rule knows get no hint', () => {
    expect(hintFor(new InputError('--until: "x" is not a stage (provision, engine, swarm)'))).toBeUndefined();
    expect(
      hintFor(new StepError('node-1', 'install engine', 'exited 100: E: Unable to locate package')),
    ).toBeUndefined();
    expect(hintFor('a string')).toBeUndefined();
    expect(hintFor(undefined)).toBeUndefined();
  });
});

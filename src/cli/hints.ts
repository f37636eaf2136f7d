import { DEFAULT_ENGINE, resolveEngine } from '../providers/docker/endpoint.ts';
import { HostKeyChangedError, SshConnectError, StepError, StepErrors, type SshAttempt } from '../errors.ts';

/**
 * One line of advice after an error, for the failures operators meet most: what to run or change next. Pure: the
 * error (as the command caught it) and what the command line knew (cluster, provider, profile) in, a line out, or
 * nothing when no rule knows the failure. Rules read the error's own fields where it has them (a host key's file
 * and lines, an SSH login's user and key) and else its message, as the code paths word it.
 */
export interface HintContext {
  cluster?: string;
  provider?: string;
  /** The config file given (-c), to name in commands. */
  config?: string;
  /** --profile or AWS_PROFILE. */
  profile?: string;
  /** The docker provider's engine, as the docker CLI finds it (DOCKER_HOST, a docker context, the socket). */
  dockerHost?: string;
}

type Rule = (leaves: Leaf[], ctx: HintContext) => string | undefined;

/** One failure: the host it names (StepError) and its cause, with the original error for its fields. */
interface Leaf {
  err: unknown;
  host?: string;
  cause: string;
  name: string;
  code: string;
}

function leavesOf(err: unknown): Leaf[] {
  if (err instanceof StepErrors) return err.errors.flatMap(leavesOf);
  const e = (err ?? {}) as { name?: unknown; code?: unknown; Code?: unknown; message?: unknown };
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return [
    {
      err,
      ...(err instanceof StepError ? { host: err.host } : {}),
      cause: err instanceof StepError ? err.causeMessage : str(e.message) || String(err),
      name: str(e.name),
      code: str(e.code) || str(e.Code),
    },
  ];
}

const first = (leaves: Leaf[], test: (l: Leaf) => boolean) => leaves.find(test);

/** `swarmup ssh NODE -- CMD` as the user would type it for this cluster. */
function sshCommand(ctx: HintContext, node: string, command: string): string {
  const which = ctx.config ? ` -c ${ctx.config}` : ctx.cluster ? ` --name ${ctx.cluster}` : '';
  return `swarmup ssh${which} ${node} -- ${command}`;
}

const hostKeyChanged: Rule = (leaves) => {
  const l = first(
    leaves,
    (x) => x.err instanceof HostKeyChangedError || /SSH host key of \S+ has changed/.test(x.cause),
  );
  if (!l) return undefined;
  const e = l.err instanceof HostKeyChangedError ? l.err : undefined;
  const m = /SSH host key of (\S+) has changed since it was first trusted \(([^)]+)\)/.exec(l.cause);
  const pattern = e?.pattern ?? m?.[1];
  const file = e?.file ?? m?.[2];
  if (!pattern || !file) return undefined;
  const lines = e?.lines ?? [];
  const where = lines.length
    ? `line${lines.length > 1 ? 's' : ''} ${lines.join(', ')} of ${file}`
    : `the ${pattern} line of ${file}`;
  return (
    `only if ${pattern} was really rebuilt, remove ${where} (ssh-keygen -R '${pattern}' -f ${file}) and run ` +
    'again; otherwise do not connect: something else answers at that address'
  );
};

const sshAuth: Rule = (leaves) => {
  const l = first(leaves, (x) => /All configured authentication methods failed/.test(x.cause));
  if (!l) return undefined;
  let a: SshAttempt | undefined = l.err instanceof SshConnectError ? l.err.attempt : undefined;
  if (!a) {
    const m = /([^\s@]+)@([^\s:]+):(\d+): All configured/.exec(l.cause);
    if (m) a = { user: m[1]!, address: m[2]!, port: Number(m[3]) };
  }
  const n = leaves.filter((x) => /All configured authentication methods failed/.test(x.cause)).length;
  const who = a ? `${a.user}@${a.address}${a.port === 22 ? '' : ` port ${a.port}`}` : 'the login';
  const hosts = `${l.host ?? 'the host'}${n > 1 ? ` and ${n - 1} more` : ''}`;
  if (a?.privateKey)
    return (
      `${hosts} refused ${who} with key ${a.privateKey}: install its public key there ` +
      `(ssh-copy-id -i ${a.privateKey}.pub${a.port === 22 ? '' : ` -p ${a.port}`} ${a.user}@${a.address}), ` +
      'or set ssh.user / ssh.privateKey in the inventory to a login that works (ssh -i KEY USER@HOST tries one)'
    );
  return (
    `${hosts} refused ${who} with the keys of ssh-agent (${a ? 'no privateKey given' : 'or the key given'}): ` +
    'add the right key (ssh-add KEY; ssh-add -l lists them), or set ssh.privateKey and ssh.user in the inventory, ' +
    'or install the public key on the host (ssh-copy-id)'
  );
};

const sshUnreachable: Rule = (leaves, ctx) => {
  const l = first(
    leaves,
    (x) =>
      /connect over SSH/.test(x.err instanceof StepError ? x.err.step : '') &&
      /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|ENETUNREACH|Timed out while waiting for handshake/.test(x.cause),
  );
  if (!l) return undefined;
  const m = /[^\s@]+@([^\s:]+):(\d+)/.exec(l.cause);
  const at = m ? `${m[1]}:${m[2]}` : 'its address';
  if (ctx.provider === 'docker')
    return `nothing answers SSH at ${at}: is ${l.host ?? 'the node'}'s container running? docker ps -a --filter label=swarmup.cluster=${ctx.cluster ?? 'NAME'}`;
  return `nothing answers SSH at ${at} for ${l.host ?? 'the host'}: check its address and port in the inventory, that it is up and sshd runs, and that no firewall drops the port`;
};

/** What an engine that does not answer looks like, through SSH (forwarded socket, dial-stdio) or after a deadline. */
const ENGINE_DOWN =
  /Cannot connect to the Docker daemon|failed to open the raw stream connection|dial unix \S*docker\.sock|the Docker engine does not answer|the Docker engine[^\n]* did not answer within/;

const engineOnHost: Rule = (leaves, ctx) => {
  const l = first(leaves, (x) => x.host !== undefined && ENGINE_DOWN.test(x.cause));
  if (!l?.host) return undefined;
  const deadline = /did not answer within/.test(l.cause)
    ? '; a busy engine may only need longer: --timeout SECONDS'
    : '';
  if (ctx.provider === 'docker')
    return (
      `the Docker engine of ${l.host} does not answer: docker ps --filter label=swarmup.cluster=${ctx.cluster ?? 'NAME'} ` +
      `shows whether its container runs, and ${sshCommand(ctx, l.host, 'pgrep -a dockerd')} whether the engine does${deadline}`
    );
  return (
    `the Docker engine of ${l.host} does not answer: ${sshCommand(ctx, l.host, 'systemctl status docker')} ` +
    `(then sudo systemctl start docker, or journalctl -u docker for why it stopped)${deadline}`
  );
};

/** The docker provider's own engine (DOCKER_HOST, a docker context or the socket): a raw connect error, no host named. */
const localEngine: Rule = (leaves, ctx) => {
  const l = first(
    leaves,
    (x) =>
      x.host === undefined &&
      (ctx.provider === 'docker' || /docker\.sock/.test(x.cause)) &&
      /^connect (ECONNREFUSED|ENOENT|EACCES) /.test(x.cause),
  );
  if (!l) return undefined;
  const denied = /EACCES/.test(l.cause);
  return denied
    ? `this user may not use the Docker engine at ${ctx.dockerHost ?? 'the local socket'}: join the docker group (then log in again) or run as root`
    : `the Docker engine at ${ctx.dockerHost ?? 'unix:///var/run/docker.sock'} does not answer: is it running here (docker info)? DOCKER_HOST or --docker-context chooses another engine`;
};

const portBlocked: Rule = (leaves) => {
  const blocked = new Map<string, { from: string; to: string; addr: string; ports: string[] }>();
  for (const l of leaves) {
    const m = /^(\d+\/(?:tcp|udp)) is not reachable from (\S+) \(([^)]+):\d+\)/.exec(l.cause);
    if (!m || !l.host) continue;
    const key = `${m[2]}>${l.host}`;
    const entry = blocked.get(key) ?? { from: m[2]!, to: l.host, addr: m[3]!, ports: [] };
    entry.ports.push(m[1]!);
    blocked.set(key, entry);
  }
  if (blocked.size === 0) return undefined;
  const each = [...blocked.values()].map(
    (b) => `${b.ports.join(', ')} from ${b.from} to ${b.to} (${b.addr})`,
  );
  return `open ${each.join('; ')} in the firewall or security group, then run again`;
};

const quorumLost: Rule = (leaves, ctx) => {
  const l = first(leaves, (x) => x.name === 'QuorumLostError' || /has lost quorum/.test(x.cause));
  if (!l) return undefined;
  const which = ctx.config ? ` -c ${ctx.config}` : ctx.cluster ? ` --name ${ctx.cluster}` : '';
  return `if the lost managers cannot come back, swarmup recover${which} --yes rebuilds from a surviving manager (docs/day-two.md, "Life after bring-up")`;
};

const AWS_EXPIRED =
  /ExpiredToken|security token included in the request is expired|SSO session .*(expired|invalid)|Token is expired|RequestExpired/i;
const AWS_INVALID =
  /InvalidClientTokenId|UnrecognizedClientException|AuthFailure|security token included in the request is invalid|not able to validate the provided access credentials|SignatureDoesNotMatch/;
const AWS_MISSING = /Could not load credentials|no AWS credentials/;

const awsCredentials: Rule = (leaves, ctx) => {
  const l = first(leaves, (x) =>
    [AWS_EXPIRED, AWS_INVALID, AWS_MISSING].some((r) => r.test(`${x.name} ${x.code} ${x.cause}`)),
  );
  if (!l) return undefined;
  const text = `${l.name} ${l.code} ${l.cause}`;
  const p = ctx.profile;
  const login = `aws sso login --profile ${p ?? 'PROFILE'}`;
  const check = `aws sts get-caller-identity${p ? ` --profile ${p}` : ''}`;
  if (AWS_EXPIRED.test(text))
    return `the AWS credentials have expired${/RequestExpired/.test(text) ? " (or this machine's clock is wrong)" : ''}: sign in again (${login}) or renew the session keys; ${check} checks them`;
  if (AWS_INVALID.test(text))
    return `AWS does not accept these credentials${p ? ` (profile ${p})` : ''}: ${check} shows whose they are; pick the right profile with --profile or AWS_PROFILE, or ${login}`;
  return p
    ? `profile ${p} gave no credentials: ${login} (or aws configure --profile ${p}); aws configure list-profiles lists the profiles`
    : `no AWS credentials found: set AWS_PROFILE=PROFILE (aws configure list-profiles lists them) and ${login}, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
};

const awsRegion: Rule = (leaves, ctx) => {
  const missing = first(leaves, (x) => /no AWS region|Region is missing/.test(x.cause));
  if (missing)
    return `give the region: --region eu-west-1 (or AWS_REGION, AWS_DEFAULT_REGION), or set it in the profile: aws configure set region eu-west-1${ctx.profile ? ` --profile ${ctx.profile}` : ''}`;
  const wrong = first(leaves, (x) => /ENOTFOUND \S+\.amazonaws\.com/.test(x.cause));
  const host = wrong && /ENOTFOUND (\S+\.amazonaws\.com)/.exec(wrong.cause)?.[1];
  if (!host) return undefined;
  const region = /^[a-z0-9]+\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1];
  return `${host} does not resolve: ${region ? `is "${region}" a region (aws ec2 describe-regions lists them)? ` : ''}check --region / AWS_REGION and this machine's DNS`;
};

const awsDenied: Rule = (leaves) => {
  const l = first(
    leaves,
    (x) =>
      /UnauthorizedOperation|AccessDenied/.test(`${x.name} ${x.code}`) ||
      /You are not authorized to perform this operation|these credentials are denied|is not authorized to perform/.test(
        x.cause,
      ),
  );
  if (!l) return undefined;
  const decode = /Encoded authorization failure message/.test(l.cause)
    ? '; aws sts decode-authorization-message --encoded-message MSG says which action and resource'
    : '';
  return `the credentials lack an IAM permission: grant the policy in docs/providers/ec2.md, "IAM policy" (src/providers/ec2/iam-policy.json); swarmup plan --provider ec2 checks every one without creating anything${decode}`;
};

/** In order: the first rule that knows the failure speaks. */
const rules: Rule[] = [
  hostKeyChanged,
  sshAuth,
  portBlocked,
  quorumLost,
  awsCredentials,
  awsRegion,
  awsDenied,
  engineOnHost,
  sshUnreachable,
  localEngine,
];

/** One line of advice for this error, or undefined when there is none. */
export function hintFor(err: unknown, ctx: HintContext = {}): string | undefined {
  const leaves = leavesOf(err);
  for (const rule of rules) {
    const hint = rule(leaves, ctx);
    if (hint) return hint;
  }
  return undefined;
}

/** The context the command line knows, from its flags and environment. */
export function hintContext(
  flags: {
    name?: string;
    provider?: string;
    config?: string;
    inventory?: string;
    profile?: string;
    dockerContext?: string;
  },
  env: NodeJS.ProcessEnv,
): HintContext {
  const config = flags.config ?? flags.inventory;
  const profile = flags.profile ?? env.AWS_PROFILE;
  return {
    ...(flags.name ? { cluster: flags.name } : {}),
    ...(flags.provider ? { provider: flags.provider } : {}),
    ...(config ? { config } : {}),
    ...(profile ? { profile } : {}),
    dockerHost: engineHost(flags.dockerContext, env),
  };
}

/** The docker provider's engine, or (a context that cannot be read) what dockerode would fall back to. */
function engineHost(context: string | undefined, env: NodeJS.ProcessEnv): string {
  try {
    return resolveEngine(context, env).host;
  } catch {
    return env.DOCKER_HOST || DEFAULT_ENGINE;
  }
}

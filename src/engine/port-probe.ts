import type { SshConnection } from '../transport/ssh-connection.ts';
import { quote } from '../transport/quote.ts';
import type { HostReport, PreflightProblem } from './preflight.ts';

const PERL_LISTENER = `
use strict; use IO::Socket::INET; use IO::Select;
my ($addr, $secs, @specs) = @ARGV; $| = 1;
my $sel = IO::Select->new; my %name;
for my $s (@specs) {
  my ($proto, $p) = split /:/, $s;
  my $sock = $proto eq 'tcp'
    ? IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $p, Proto => 'tcp', Listen => 8, ReuseAddr => 1)
    : IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $p, Proto => 'udp');
  if (!$sock) { print $!{EADDRINUSE} ? "inuse $s\\n" : "bindfail $s $!\\n"; next; }
  $sel->add($sock); $name{$sock} = $s;
}
print "ready\\n";
my $end = time + $secs; my %seen;
while (time < $end && scalar(keys %seen) < $sel->count) {
  for my $s ($sel->can_read(0.1)) {
    if ($name{$s} =~ /^tcp/) { my $c = $s->accept; close $c if $c; } else { my $b; $s->recv($b, 64); }
    print "got $name{$s}\\n" unless $seen{$name{$s}}++;
  }
}`;

const PYTHON_LISTENER = `
import errno, socket, select, sys, time
addr, secs, specs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
socks = {}
for s in specs:
    proto, p = s.split(':')
    try:
        k = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
        k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        k.bind((addr, int(p)))
        if proto == 'tcp': k.listen(8)
        socks[k] = s
    except OSError as e:
        print(('inuse ' + s) if e.errno == errno.EADDRINUSE else ('bindfail ' + s + ' ' + str(e.strerror)), flush=True)
print('ready', flush=True)
end, seen = time.time() + secs, set()
while time.time() < end and len(seen) < len(socks):
    r, _, _ = select.select(list(socks), [], [], 0.1)
    for k in r:
        if socks[k].startswith('tcp'): k.accept()[0].close()
        else: k.recv(64)
        if socks[k] not in seen: seen.add(socks[k]); print('got', socks[k], flush=True)
`;

/** Free disk where the engine keeps its data, and the host's addresses, printed before the listener starts. */
const REPORT = [
  'd=/var/lib/docker; [ -d $d ] || d=/var/lib',
  `echo "disk=$(df -Pk $d | awk 'NR==2 {print $4}')"`,
  `echo "addrs=$(ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | tr '\\n' ' ')"`,
].join('; ');

export function listenerCommand(addr: string, secs: number, specs: string[]): string {
  const args = [addr, String(secs), ...specs].map(quote).join(' ');
  return [
    `${REPORT};`,
    `if command -v perl >/dev/null 2>&1; then exec perl -e ${quote(PERL_LISTENER)} ${args};`,
    `elif command -v python3 >/dev/null 2>&1; then exec python3 -c ${quote(PYTHON_LISTENER)} ${args};`,
    'else echo nolistener; fi',
  ].join(' ');
}

/**
 * One command on the source probes every target at once: TCP connects in the background, datagrams in a few
 * rounds (one may be lost). `timeout` bounds the lot (it signals the whole process group).
 */
function proberCommand(targets: Array<{ addr: string; specs: string[] }>): string {
  return `timeout 6 bash -c ${quote(proberScript(targets))}`;
}

/** The script the prober runs (under `bash -c`): every value in it quoted. */
export function proberScript(targets: Array<{ addr: string; specs: string[] }>): string {
  const parts = targets.map(({ addr, specs }) => {
    const tcp = specs.filter((s) => s.startsWith('tcp:')).map((s) => s.split(':')[1]!);
    const udp = specs.filter((s) => s.startsWith('udp:')).map((s) => s.split(':')[1]!);
    const lines = tcp.map(
      (port) =>
        `( exec 3<>${quote(`/dev/tcp/${addr}/${port}`)} ) 2>/dev/null && echo ${quote(`tcpok:${addr}:${port}`)} &`,
    );
    if (udp.length > 0) {
      const sends = udp.map((port) => `echo probe >${quote(`/dev/udp/${addr}/${port}`)}`).join('; ');
      lines.push(`( for i in 1 2 3; do ${sends}; sleep 0.02; done ) 2>/dev/null &`);
    }
    return lines.join('\n');
  });
  return [...parts, 'wait'].join('\n');
}

/** How a port that did not arrive is reported (the hint after the error reads it): `2377/tcp`, from, to's address. */
export function unreachableMessage(port: string, from: string, addr: string): string {
  return `${port} is not reachable from ${from} (${addr}:${port.split('/')[0]}); Swarm needs 2377/tcp to managers and 7946/tcp+udp and the data path port (4789/udp unless swarm.dataPathPort says otherwise) between all nodes: open them in the firewall`;
}

export interface ProbeRun {
  probes: Array<{ from: string; to: string; ports: string[] }>;
  connection: (host: string) => Promise<SshConnection>;
  address: (host: string) => string;
}

/**
 * Probe Swarm's ports between hosts before anything is changed: every target listens on its advertise address
 * (perl or python3: one of them is on every supported system) and reports its free disk and addresses; each
 * source then probes all its targets in one command; the targets report what arrived.
 */
export async function probeSwarmPorts(
  run: ProbeRun,
): Promise<{ problems: PreflightProblem[]; reports: Map<string, HostReport> }> {
  // The listener stops as soon as every probe arrived; the window only bounds a failure (and a loaded machine).
  const LISTEN_S = 8; // the probers give up after 6 s
  const targets = [...new Set(run.probes.map((p) => p.to))];
  const specsOf = (t: string) => [...new Set(run.probes.filter((p) => p.to === t).flatMap((p) => p.ports))];
  const listeners = await Promise.all(
    targets.map(async (t) => {
      const conn = await run.connection(t);
      let out = '';
      let onReady: () => void = () => undefined;
      const ready = new Promise<void>((r) => (onReady = r));
      const done = conn.execStreaming(
        listenerCommand(run.address(t), LISTEN_S, specsOf(t)),
        (chunk) => {
          out += chunk;
          if (/^(ready|nolistener)$/m.test(out)) onReady();
        },
        120_000,
      );
      return { host: t, ready: Promise.race([ready, done.then(() => undefined)]), done };
    }),
  );
  await Promise.all(listeners.map((l) => l.ready));

  const sources = [...new Set(run.probes.map((p) => p.from))];
  const probeOut = new Map<string, string>();
  await Promise.all(
    sources.map(async (src) => {
      const mine = run.probes.filter((p) => p.from === src);
      const r = await (
        await run.connection(src)
      ).exec(proberCommand(mine.map((p) => ({ addr: run.address(p.to), specs: p.ports }))), {
        deadlineMs: 120_000,
      });
      probeOut.set(src, r.stdout);
    }),
  );

  const problems: PreflightProblem[] = [];
  const reports = new Map<string, HostReport>();
  for (const l of listeners) {
    const result = await l.done;
    const out = result.stdout;
    const disk = /^disk=(\d+)$/m.exec(out)?.[1];
    const addrs = /^addrs=(.*)$/m.exec(out)?.[1];
    reports.set(l.host, {
      ...(disk ? { diskFreeKiB: Number(disk) } : {}),
      ...(addrs !== undefined ? { addresses: addrs.split(/\s+/).filter(Boolean) } : {}),
    });
    const addr = run.address(l.host);
    if (/^nolistener$/m.test(out)) {
      problems.push({
        host: l.host,
        check: 'ports',
        message: 'cannot probe the Swarm ports: neither perl nor python3 on this host',
      });
      continue;
    }
    const bindFailed = [...out.matchAll(/^bindfail (\S+) (.*)$/gm)];
    if (bindFailed.length > 0) {
      const report = reports.get(l.host)!;
      // An advertise address that is not the host's is reported as such by the address check.
      if (report.addresses && !report.addresses.includes(addr)) continue;
      for (const m of bindFailed) {
        const [proto, port] = m[1]!.split(':');
        problems.push({
          host: l.host,
          check: 'ports',
          message: `cannot listen on ${addr} ${port}/${proto}: ${m[2]}`,
        });
      }
      continue;
    }
    const got = new Set([...out.matchAll(/^got (\S+)$/gm)].map((m) => m[1]!));
    // A port some program already holds (often the engine itself, a moment after leaving a swarm) cannot be
    // listened on: for TCP, a connection that succeeds proves it reachable; a held UDP port cannot be checked.
    const inUse = new Set([...out.matchAll(/^inuse (\S+)$/gm)].map((m) => m[1]!));
    for (const p of run.probes.filter((x) => x.to === l.host)) {
      const from = probeOut.get(p.from) ?? '';
      for (const m of from.matchAll(/^tcpok:([^:\s]+):(\d+)$/gm))
        if (m[1] === addr && inUse.has(`tcp:${m[2]}`)) got.add(`tcp:${m[2]}`);
      for (const spec of p.ports) {
        if (got.has(spec) || (inUse.has(spec) && spec.startsWith('udp:'))) continue;
        const [proto, port] = spec.split(':');
        problems.push({
          host: l.host,
          check: 'ports',
          message: unreachableMessage(`${port}/${proto}`, p.from, addr),
        });
      }
    }
  }
  return { problems, reports };
}

import type { SshConnection } from '../transport/ssh-connection.ts';
import { quote } from '../transport/quote.ts';
import type { PreflightProblem } from './preflight.ts';

/**
 * A quick reachability probe of Swarm's ports between hosts, before anything is changed. The target listens on
 * its advertise address for a few seconds (perl or python3: one of them is on every supported system), the source
 * connects (TCP, bash's /dev/tcp) or sends datagrams (UDP), and the target reports what arrived.
 */
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

function listenerCommand(addr: string, secs: number, specs: string[]): string {
  const args = [addr, String(secs), ...specs].map(quote).join(' ');
  return [
    `if command -v perl >/dev/null 2>&1; then exec perl -e ${quote(PERL_LISTENER)} ${args};`,
    `elif command -v python3 >/dev/null 2>&1; then exec python3 -c ${quote(PYTHON_LISTENER)} ${args};`,
    'else echo nolistener; fi',
  ].join(' ');
}

function proberCommand(addr: string, specs: string[]): string {
  const tcp = specs.filter((s) => s.startsWith('tcp:')).map((s) => s.split(':')[1]!);
  const udp = specs.filter((s) => s.startsWith('udp:')).map((s) => s.split(':')[1]!);
  // TCP connects at once (each bounded to 5 s); datagrams in a few rounds, since one may be lost.
  const lines = tcp.map(
    (port) =>
      `{ timeout 5 bash -c ${quote(`exec 3<>/dev/tcp/${addr}/${port}`)} 2>/dev/null && echo tcpok:${port}; } &`,
  );
  if (udp.length > 0) {
    const sends = udp.map((port) => `echo probe >/dev/udp/${addr}/${port}`).join('; ');
    lines.push(`for i in 1 2 3 4; do bash -c ${quote(sends)} 2>/dev/null; sleep 0.05; done`);
  }
  lines.push('wait');
  return lines.join('\n');
}

export interface ProbeTarget {
  host: string;
  conn: SshConnection;
  addr: string;
}

/** Run one probe (source -> target) over the two hosts' SSH connections; returns the problems found. */
export async function probePorts(
  from: ProbeTarget,
  to: ProbeTarget,
  specs: string[],
): Promise<PreflightProblem[]> {
  // The listener stops as soon as every probe arrived; the window only bounds a failure (and a loaded machine).
  const LISTEN_S = 12;
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const listener = to.conn.execStreaming(listenerCommand(to.addr, LISTEN_S, specs), (chunk) => {
    out += chunk;
    if (/^(ready|nolistener)$/m.test(out)) onReady();
  });
  await Promise.race([ready, listener]);
  if (/^nolistener$/m.test(out)) {
    return [
      {
        host: to.host,
        check: 'ports',
        message: 'cannot probe the Swarm ports: neither perl nor python3 on this host',
      },
    ];
  }
  const problems: PreflightProblem[] = [];
  for (const m of out.matchAll(/^bindfail (\S+) (.*)$/gm)) {
    const [proto, port] = m[1]!.split(':');
    problems.push({
      host: to.host,
      check: 'ports',
      message: `cannot listen on ${to.addr} ${port}/${proto}: ${m[2]} (in use by another program, or not an address of this host)`,
    });
  }
  const probe = await from.conn.exec(proberCommand(to.addr, specs));
  const result = await listener;
  const got = new Set([...result.stdout.matchAll(/^got (\S+)$/gm)].map((m) => m[1]!));
  // A port some program already holds (often the engine itself, a moment after leaving a swarm) cannot be listened
  // on: for TCP, a connection that succeeds proves it reachable; a held UDP port cannot be checked.
  const inUse = new Set([...result.stdout.matchAll(/^inuse (\S+)$/gm)].map((m) => m[1]!));
  for (const m of probe.stdout.matchAll(/^tcpok:(\d+)$/gm))
    if (inUse.has(`tcp:${m[1]}`)) got.add(`tcp:${m[1]}`);
  for (const s of specs) {
    if (got.has(s) || (inUse.has(s) && s.startsWith('udp:'))) continue;
    if (problems.some((p) => p.message.includes(` ${s.split(':')[1]}/${s.split(':')[0]}:`))) continue;
    const [proto, port] = s.split(':');
    problems.push({
      host: to.host,
      check: 'ports',
      message: `${port}/${proto} is not reachable from ${from.host} (${to.addr}:${port}); Swarm needs 2377/tcp to managers and 7946/tcp+udp, 4789/udp between all nodes: open them in the firewall`,
    });
  }
  return problems;
}

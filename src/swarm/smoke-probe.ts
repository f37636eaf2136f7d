/**
 * The smoke test's probe: one Perl script, run with `perl -e` (in the smoke tasks) or `perl -` (on a host over SSH).
 * It uses only Perl's built-in socket calls, no module: the image carries nothing but the perl binary and the
 * libraries it links (see smoke-image.ts).
 *
 *   serve PORT                  answer every TCP connection with "swarmup-smoke <$SMOKE_NODE>"
 *   probe SECONDS IP:PORT...    connect to each target at once (one process each); print per target
 *                               "ok IP:PORT <node that answered>" or "fail IP:PORT <why>"
 */
export const PROBE_SCRIPT = String.raw`$| = 1;
my ($mode, @args) = @ARGV;
sub sa { my ($ip, $port) = @_; pack('S n C4 x8', 2, $port, split(/\./, $ip)) }
if ($mode eq 'serve') {
  $SIG{TERM} = sub { exit(0) };
  socket(S, 2, 1, 6) or die "socket: $!\n";
  setsockopt(S, 1, 2, pack('l', 1));
  bind(S, sa('0.0.0.0', $args[0])) or die "bind: $!\n";
  listen(S, 128) or die "listen: $!\n";
  print "listening on $args[0]\n";
  while (1) { if (accept(C, S)) { syswrite(C, "swarmup-smoke $ENV{SMOKE_NODE}\n"); close(C); } }
}
my $t = shift @args;
for my $to (@args) {
  my $pid = fork();
  next if $pid;
  my ($ip, $port) = split(/:/, $to);
  my $got = eval {
    local $SIG{ALRM} = sub { die "no answer within $t s\n" };
    alarm($t);
    socket(my $s, 2, 1, 6) or die "socket: $!\n";
    connect($s, sa($ip, $port)) or die "connect: $!\n";
    my $line = <$s>;
    alarm(0);
    defined($line) or die "closed without an answer\n";
    $line;
  };
  my $why = $@; $why =~ s/\s+$//; $got =~ s/\s+$// if defined $got;
  syswrite(STDOUT, defined($got) && $got =~ /^swarmup-smoke (.*)/ ? "ok $to $1\n" : "fail $to " . ($why || "unexpected answer") . "\n");
  exit(0);
}
1 while wait() != -1;
`;

/** The port the probe listens on inside each task (on the overlay network). */
export const OVERLAY_PORT = 7999;

/** Arguments after the script for a probe run. */
export function probeArgs(timeoutSeconds: number, targets: string[]): string[] {
  return ['probe', String(timeoutSeconds), ...targets];
}

export interface ProbeOutcome {
  target: string;
  ok: boolean;
  /** The node that answered (ok), or why it did not (not ok). */
  detail: string;
}

/** Parse the probe's output; a target with no line at all is a failure too (the probe died or was cut off). */
export function parseProbeOutput(output: string, targets: string[]): Map<string, ProbeOutcome> {
  const out = new Map<string, ProbeOutcome>();
  for (const line of output.split('\n')) {
    const m = /^(ok|fail) (\S+) ?(.*)$/.exec(line.trim());
    if (m && targets.includes(m[2]!)) out.set(m[2]!, { target: m[2]!, ok: m[1] === 'ok', detail: m[3]! });
  }
  for (const t of targets)
    if (!out.has(t)) out.set(t, { target: t, ok: false, detail: 'the probe reported nothing' });
  return out;
}

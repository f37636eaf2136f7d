/**
 * Starting and stopping a host's engine as its init system does, or, without systemd (containers, engines started
 * by hand), the dockerd process itself: stopped with SIGTERM (its raft written and closed) after its command line
 * is kept, so it is started again exactly as it ran. Pure: script text only.
 */

/**
 * Whether a dockerd process runs (exit 0) or not (1), as a shell condition. A dockerd that exited stays a zombie
 * where PID 1 reaps nothing (a container's `sleep`): only processes that run, sleep or wait on I/O count; a pgrep
 * without --runstates (procps before 3.3.16) is asked plainly.
 */
export const DOCKERD_RUNS =
  '{ pgrep -r R,S,D -x dockerd >/dev/null 2>&1; r=$?; [ $r -eq 2 ] && { pgrep -x dockerd >/dev/null 2>&1; r=$?; }; [ $r -eq 0 ]; }';

/** Where the command line of a dockerd swarmup stopped is kept (no systemd), one argument per line. */
export const SAVED_COMMAND_LINE = '/var/lib/swarmup/dockerd.cmdline';

/**
 * Wait (60 s at most) until the engine's socket is there, showing its log when it is not. Whether the engine
 * answers on it is asked by swarmup itself, over the connection (the Engine API): no docker CLI is needed here
 * (Debian's docker.io 26+ may come without one).
 */
const WAIT_FOR_SOCKET = [
  'i=0',
  'until [ -S /var/run/docker.sock ]; do',
  '  i=$((i+1))',
  '  if [ $i -gt 240 ]; then echo "the engine made no socket within 60 s" >&2; (journalctl -u docker -n 20 --no-pager 2>/dev/null || tail -n 20 /var/log/dockerd.log 2>/dev/null) >&2; exit 1; fi',
  '  sleep 0.25',
  'done',
].join('\n');

/** Start the engine (and enable it at boot with systemd); without systemd, as it last ran if swarmup stopped it. */
export function startScript(systemd: boolean): string {
  if (systemd) return ['set -eu', 'systemctl enable --now docker', WAIT_FOR_SOCKET].join('\n');
  // No systemd as PID 1 (containers): start dockerd detached from this session, unless one runs already.
  return [
    'set -eu',
    `if ! ${DOCKERD_RUNS}; then`,
    `  if [ -s ${SAVED_COMMAND_LINE} ]; then`,
    `    set -f; old=$IFS; IFS='\n'; set -- $(cat ${SAVED_COMMAND_LINE}); IFS=$old; set +f`,
    '  else',
    '    set -- dockerd',
    '  fi',
    '  rm -f /var/run/docker.pid',
    '  setsid nohup "$@" >>/var/log/dockerd.log 2>&1 </dev/null &',
    'fi',
    WAIT_FOR_SOCKET,
  ].join('\n');
}

/** Bound of the wait for dockerd to stop, in seconds. */
const STOP_WAIT_S = 60;

/** Stop the engine; with systemd its socket too (else the next `docker` call would start it again). */
export function stopScript(systemd: boolean): string {
  if (systemd)
    return [
      'set -eu',
      'systemctl stop docker.socket docker.service 2>/dev/null || systemctl stop docker',
    ].join('\n');
  return [
    'set -u',
    'pid=$(cat /var/run/docker.pid 2>/dev/null || true)',
    '[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || pid=$(pgrep -o -r R,S,D -x dockerd 2>/dev/null || pgrep -o -x dockerd 2>/dev/null || true)',
    '[ -n "$pid" ] || exit 0',
    `mkdir -p ${SAVED_COMMAND_LINE.replace(/\/[^/]+$/, '')}`,
    `tr '\\0' '\\n' </proc/$pid/cmdline >${SAVED_COMMAND_LINE}.tmp && mv ${SAVED_COMMAND_LINE}.tmp ${SAVED_COMMAND_LINE}`,
    'kill -TERM "$pid" 2>/dev/null || exit 0',
    'n=0',
    // Until the process is gone or a zombie (PID 1 of a container may reap nothing).
    'while st=$(sed -n \'s/^State:[[:space:]]*\\([A-Z]\\).*/\\1/p\' /proc/$pid/status 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; do',
    `  n=$((n+1)); [ $n -ge ${STOP_WAIT_S * 10} ] && { echo "dockerd ($pid) did not stop within ${STOP_WAIT_S} s" >&2; exit 1; }; sleep 0.1`,
    'done',
  ].join('\n');
}

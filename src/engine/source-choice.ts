import { DEBIAN_ROLLING } from './os.ts';

/** Where the engine comes from (engine.source). */
export type EngineSource = 'docker-ce' | 'distro' | 'script' | 'none';

/** The engine as configured: `sourceDefaulted` when engine.source was not given (docker-ce then). */
export interface EngineWanted {
  source: EngineSource;
  version?: string;
  sourceDefaulted?: true;
}

export type SourceChoice = { source: EngineSource; note?: string } | { problem: string };

/** The dnf systems whose own repositories have no Docker engine (Docker's repository serves them). */
const DOCKER_CE_ONLY = ['fedora', 'rhel', 'rocky', 'almalinux', 'centos'];

/**
 * The engine source that works on a system (os-release ID, e.g. amzn): the configured one when it can; on Amazon
 * Linux, whose only engine is its own `docker` package, the default docker-ce becomes distro (said in `note`); a
 * source that was asked for and cannot work there is a problem naming what to use instead. One rule for the
 * engine step over SSH (from /etc/os-release) and for the EC2 provider before launch (from the image).
 */
export function sourceFor(
  os: { id: string; prettyName: string; versionId?: string },
  engine: EngineWanted,
): SourceChoice {
  const { source } = engine;
  // Docker's repository is made for Debian's stable releases, not for testing/unstable.
  if (os.id === 'debian' && os.versionId === '' && source === 'docker-ce') {
    if (engine.sourceDefaulted)
      return {
        source: 'distro',
        note: `Docker's repository has no packages for Debian ${DEBIAN_ROLLING} (${os.prettyName}): installing docker.io (engine.source distro)`,
      };
    return {
      problem: `Docker's repository has no packages for Debian ${DEBIAN_ROLLING} (${os.prettyName}); use engine.source distro`,
    };
  }
  if (os.id === 'amzn') {
    if (source === 'docker-ce' && engine.sourceDefaulted)
      return {
        source: 'distro',
        note: `${os.prettyName} has no docker-ce repository: installing its own docker package (engine.source distro)`,
      };
    if (source === 'docker-ce')
      return {
        problem: `Docker's repository has no packages for ${os.prettyName}; use engine.source distro`,
      };
    if (source === 'script')
      return { problem: `get.docker.com does not support ${os.prettyName}; use engine.source distro` };
  }
  if (DOCKER_CE_ONLY.includes(os.id) && source === 'distro')
    return {
      problem: `${os.prettyName} has no Docker engine in its own repositories; use engine.source docker-ce`,
    };
  return { source };
}

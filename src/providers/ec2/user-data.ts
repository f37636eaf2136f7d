import { dnfAddDockerRepo, type EngineSource } from '../../engine/install-plan.ts';
import { FAMILIES, type ImageFamily } from './image-os.ts';

const APT = 'apt-get -q -y -o DPkg::Lock::Timeout=600';

/** The install commands for an image family and source, as the engine step runs them; none where nothing fits. */
function installCommands(family: ImageFamily, source: EngineSource): string | undefined {
  if (family === 'ubuntu' || family === 'debian') {
    // The CLI too where the distribution ships it apart (docker-cli, Debian's docker.io 26+), as the engine step does.
    if (source === 'distro')
      return `${APT} update && { cli=; apt-cache show docker-cli >/dev/null 2>&1 && cli=docker-cli; true; } && ${APT} install docker.io $cli`;
    if (source === 'docker-ce')
      return [
        `${APT} update`,
        `${APT} install ca-certificates curl`,
        'install -m 0755 -d /etc/apt/keyrings',
        'curl -fsSL "https://download.docker.com/linux/$ID/gpg" -o /etc/apt/keyrings/docker.asc',
        'chmod a+r /etc/apt/keyrings/docker.asc',
        'echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list',
        `${APT} update`,
        `${APT} install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin`,
      ].join(' && ');
    return undefined;
  }
  // Amazon Linux 2023: its own package, the only engine there.
  if (family === 'amzn2023') return source === 'distro' ? 'dnf -y install docker' : undefined;
  if (family === 'fedora' || family === 'rocky' || family === 'alma' || family === 'rhel')
    return source === 'docker-ce'
      ? [
          'dnf -y install dnf-plugins-core',
          `{ ${dnfAddDockerRepo(FAMILIES[family].osId)}; }`,
          'dnf -y install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
        ].join(' && ')
      : undefined;
  // Amazon Linux 2, an OS not recognised: nothing at boot; the engine step decides over SSH.
  return undefined;
}

/**
 * cloud-init user data: start the engine installation while the machine boots, so it overlaps the wait for SSH,
 * with the same package the engine step installs (which then finds it present, or installs it itself and says what
 * went wrong if this did not work). `engine`: the source that works on this image (see `imageEngine`). Only
 * unpinned docker-ce / distro installs start here; a machine whose /etc/os-release is not the image's family as
 * read from its name is left to the engine step.
 */
export function engineUserData(
  family: ImageFamily,
  engine: { source: EngineSource; version?: string },
): string | undefined {
  if (engine.version || family === 'unknown') return undefined;
  const install = installCommands(family, engine.source);
  if (!install) return undefined;
  return [
    '#!/bin/sh',
    `# swarmup: install the Docker engine during boot (${FAMILIES[family].label}, engine.source ${engine.source})`,
    'export DEBIAN_FRONTEND=noninteractive',
    '. /etc/os-release',
    'set -e',
    `[ "$ID" = ${FAMILIES[family].osId} ] || exit 0`,
    'command -v dockerd >/dev/null 2>&1 && exit 0',
    install,
    'systemctl enable --now docker',
    '',
  ].join('\n');
}

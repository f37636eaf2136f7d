/**
 * cloud-init user data: start the engine installation while the machine boots, so it overlaps the wait for SSH.
 * The engine step over SSH then waits for cloud-init and finds the engine present (or installs it itself, and
 * says what went wrong, if this did not work). Only unpinned docker-ce / distro installs start here.
 */
export function engineUserData(engine: { source: string; version?: string }): string | undefined {
  if (engine.version || (engine.source !== 'docker-ce' && engine.source !== 'distro')) return undefined;
  const apt =
    engine.source === 'distro'
      ? 'apt-get -q -y -o DPkg::Lock::Timeout=600 update && apt-get -q -y -o DPkg::Lock::Timeout=600 install docker.io'
      : [
          'apt-get -q -y -o DPkg::Lock::Timeout=600 update',
          'apt-get -q -y -o DPkg::Lock::Timeout=600 install ca-certificates curl',
          'install -m 0755 -d /etc/apt/keyrings',
          'curl -fsSL "https://download.docker.com/linux/$ID/gpg" -o /etc/apt/keyrings/docker.asc',
          'chmod a+r /etc/apt/keyrings/docker.asc',
          'echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list',
          'apt-get -q -y -o DPkg::Lock::Timeout=600 update',
          'apt-get -q -y -o DPkg::Lock::Timeout=600 install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
        ].join(' && ');
  return [
    '#!/bin/sh',
    '# swarmup: install the Docker engine during boot',
    'export DEBIAN_FRONTEND=noninteractive',
    '. /etc/os-release',
    'command -v dockerd >/dev/null 2>&1 && exit 0',
    'case "$ID" in',
    `  ubuntu|debian) ${apt} ;;`,
    `  amzn) ${engine.source === 'distro' ? 'dnf -y install docker' : 'exit 0'} ;;`,
    '  *) exit 0 ;;',
    'esac',
    'systemctl enable --now docker',
    '',
  ].join('\n');
}

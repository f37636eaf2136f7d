/** The engine the docker provider talks to (as dockerode does): DOCKER_HOST, else the local socket. */
export function dockerEndpoint(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

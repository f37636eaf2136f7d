import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { isEngineVersion, isHostAddress } from '../../src/config/validate.ts';
import { redact } from '../../src/redact.ts';

describe('values that reach a remote shell are validated first', () => {
  it('addresses: IPs and DNS names pass; anything a shell could read does not', () => {
    for (const ok of ['192.168.1.130', '10.0.0.11', '2001:db8::7', 'node0', 'node-1.lab.example.org', 'eth0'])
      expect(isHostAddress(ok), ok).toBe(true);
    for (const bad of ['1.2.3.4; reboot', '$(touch /tmp/x)', 'a b', '`id`', 'host/1', '-oProxyCommand=x', ''])
      expect(isHostAddress(bad), bad).toBe(false);
  });

  it('engine versions: package-manager forms pass; shell syntax does not', () => {
    for (const ok of ['20.10', '27.3.1', '5:27.3.1-1~ubuntu.24.04~noble', '20.10.24+dfsg1'])
      expect(isEngineVersion(ok), ok).toBe(true);
    for (const bad of ['27; curl x | sh', '$(id)', '27 .3', 'latest', ''])
      expect(isEngineVersion(bad), bad).toBe(false);
  });

  it('a config file with a hostile address or version is bad input naming the file, the line and the field', () => {
    const text = [
      'name: lab',
      'provider: ssh',
      'engine: { source: distro, version: "27; reboot" }',
      'hosts:',
      '  - { name: node0, address: "1.2.3.4; reboot" }',
    ].join('\n');
    let message = '';
    try {
      parseConfig(text, 'lab.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/lab\.yaml:3.*engine\.version/);
    expect(message).toMatch(/lab\.yaml:5.*hosts\[0\]\.address.*an IP address or a DNS name/);
  });
});

describe('redaction', () => {
  it('a token glued to other text is redacted too', () => {
    expect(redact('tokenSWMTKN-1-FAKE-NOT-A-REAL-TOKEN and key=SWMKEY-1-FAKE+/=')).toBe(
      'tokenSWMTKN-<redacted> and key=SWMKEY-<redacted>',
    );
  });
});

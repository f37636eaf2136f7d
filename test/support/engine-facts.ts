import type { EngineFacts } from '../../src/engine/host-facts.ts';
import { parseOsRelease } from '../../src/engine/os.ts';

/** /etc/os-release of the systems the install plans are tested on. */
export const osRelease = {
  debian12:
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  /** Read from the node images built from Debian's trixie and sid suites (mmdebstrap, this machine's mirror). */
  debian13:
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION="13 (trixie)"\nVERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.8\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n',
  debianSid:
    'PRETTY_NAME="Debian GNU/Linux forky/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=forky\nID=debian\nHOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\nBUG_REPORT_URL="https://bugs.debian.org/"\n',
  ubuntu2604:
    'PRETTY_NAME="Ubuntu Resolute Raccoon (development branch)"\nVERSION_ID="26.04"\nVERSION_CODENAME=resolute\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=resolute\n',
  ubuntu2404:
    'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n',
  ubuntu2204:
    'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n',
  amzn2023:
    'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023.6.20241010"\n',
  rocky9:
    'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
  ubuntu1804: 'PRETTY_NAME="Ubuntu 18.04.6 LTS"\nVERSION_ID="18.04"\nID=ubuntu\nID_LIKE=debian\n',
};

/** A host's facts as the facts script reports them: root on Debian 12 with systemd and no engine, by default. */
export function facts(over: Partial<EngineFacts> = {}, os = osRelease.debian12): EngineFacts {
  return {
    host: 'node0',
    os: parseOsRelease(os),
    uid: 0,
    user: 'root',
    sudo: 'root',
    systemd: true,
    dockerd: false,
    serverVersion: '',
    dockerdRunning: false,
    dockerCli: true,
    dockerdVersion: '',
    directAccess: false,
    inDockerGroup: false,
    cloudInit: false,
    boot: { cloudInitStatus: '', packageManagers: [] },
    clock: 1_700_000_000,
    diskFreeKiB: 20 * 1024 * 1024,
    addresses: ['127.0.0.1', '10.0.0.1'],
    ...over,
  };
}

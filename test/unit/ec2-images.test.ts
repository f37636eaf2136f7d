import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AMI_PARAMETER, DEFAULT_AMI_PARAMETER_ARM64 } from '../../src/config/cluster.ts';
import { planEngine } from '../../src/engine/install-plan.ts';
import type { EngineWanted } from '../../src/engine/source-choice.ts';
import { architectureProblem, imageParameterFor } from '../../src/providers/ec2/image.ts';
import {
  FAMILIES,
  imageEngine,
  imageFamily,
  type ImageFacts,
  type ImageFamily,
} from '../../src/providers/ec2/image-os.ts';
import { engineUserData } from '../../src/providers/ec2/user-data.ts';
import { facts } from '../support/engine-facts.ts';

/**
 * Image descriptions as DescribeImages returns them. From moto's catalogue (moto 5.2.1:
 * moto/ec2/resources/latest_amis/eu-west-1.json.gz for the Amazon Linux 2023 / 2 images, moto/ec2/resources/amis.json.gz
 * for the others): al2023, amzn2, ubuntuXenial, rhel7, al2022, windows. The rest follow the names their publishers give
 * them on AWS (Debian's cloud team, Fedora, Rocky, AlmaLinux, Red Hat, Canonical), which moto does not carry.
 */
const img = {
  al2023: {
    ImageId: 'ami-0841e304792db6a16',
    Name: 'al2023-ami-2023.11.20260427.1-kernel-6.1-x86_64',
    Description: 'Amazon Linux 2023 AMI 2023.11.20260427.1 x86_64 HVM kernel-6.1',
    Architecture: 'x86_64',
    OwnerId: '137112412989',
  },
  al2023arm: {
    ImageId: 'ami-0f11cbb02d426f673',
    Name: 'al2023-ami-2023.11.20260427.1-kernel-6.18-arm64',
    Description: 'Amazon Linux 2023 AMI 2023.11.20260427.1 arm64 HVM kernel-6.18',
    Architecture: 'arm64',
    OwnerId: '137112412989',
  },
  amzn2: {
    ImageId: 'ami-0ba84fc44e8b9291d',
    Name: 'amzn2-ami-hvm-2.0.20260427.1-x86_64-gp2',
    Description: 'Amazon Linux 2 AMI 2.0.20260427.1 x86_64 HVM gp2',
    Architecture: 'x86_64',
    OwnerId: '137112412989',
  },
  eksAmazonLinux2: {
    ImageId: 'ami-ekslinux',
    Name: 'amazon-eks-node-linux',
    Description: 'EKS Kubernetes Worker AMI with AmazonLinux2 image',
    Architecture: 'x86_64',
  },
  ubuntuXenial: {
    ImageId: 'ami-785db401',
    Name: 'ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721',
    Description: 'Canonical, Ubuntu, 16.04 LTS, amd64 xenial image build on 2017-07-21',
    Architecture: 'x86_64',
    OwnerId: '099720109477',
  },
  ubuntuNoble: {
    ImageId: 'ami-0abc',
    Name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20241004',
    Description: 'Canonical, Ubuntu, 24.04, arm64 noble image',
    Architecture: 'arm64',
    OwnerId: '099720109477',
  },
  rhel7: {
    ImageId: 'ami-bb9a6bc2',
    Name: 'RHEL-7.4_HVM_GA-20170808-x86_64-2-Hourly2-GP2',
    Description: 'Provided by Red Hat, Inc.',
    Architecture: 'x86_64',
    OwnerId: '309956199498',
  },
  rhel9: {
    ImageId: 'ami-0rhel9',
    Name: 'RHEL-9.4.0_HVM-20240605-x86_64-82-Hourly2-GP3',
    Description: 'Provided by Red Hat, Inc.',
    PlatformDetails: 'Red Hat Enterprise Linux',
    Architecture: 'x86_64',
  },
  debian: {
    ImageId: 'ami-0debian',
    Name: 'debian-12-amd64-20240717-1811',
    Description: 'Debian 12 (20240717-1811)',
    Architecture: 'x86_64',
  },
  fedora: {
    ImageId: 'ami-0fedora',
    Name: 'Fedora-Cloud-Base-AmazonEC2.x86_64-41-1.4',
    Description: 'Fedora-Cloud-Base-AmazonEC2.x86_64-41-1.4',
    Architecture: 'x86_64',
  },
  rocky: {
    ImageId: 'ami-0rocky',
    Name: 'Rocky-9-EC2-Base-9.5-20241118.0.x86_64',
    Description: 'Rocky-9-EC2-Base-9.5-20241118.0.x86_64',
    Architecture: 'x86_64',
  },
  alma: {
    ImageId: 'ami-0alma',
    Name: 'AlmaLinux OS 9.5.20241120 x86_64',
    Description: 'Official AlmaLinux OS 9.5 x86_64 image',
    Architecture: 'x86_64',
  },
  al2022: {
    ImageId: 'ami-076f415166b04f5fe',
    Name: 'al2022-ami-2022.0.20220728.1-kernel-5.15-x86_64',
    Description: 'Amazon Linux 2022 AMI 2022.0.20220728.1 x86_64 HVM kernel-5.15',
    Architecture: 'x86_64',
  },
  suse: {
    ImageId: 'ami-35e92e4c',
    Name: 'suse-sles-12-sp3-v20170907-hvm-ssd-x86_64',
    Description: 'SUSE Linux Enterprise Server 12 SP3 (HVM, 64-bit, SSD-Backed)',
    Architecture: 'x86_64',
  },
  windows: {
    ImageId: 'ami-b7e93bce',
    Name: 'Windows_Server-2016-English-Full-Base-2017.10.13',
    Description:
      'Microsoft Windows Server 2016 with Desktop Experience Locale English AMI provided by Amazon',
    Platform: 'windows',
    Architecture: 'x86_64',
  },
} satisfies Record<string, ImageFacts>;

const byDefault: EngineWanted = { source: 'docker-ce', sourceDefaulted: true };
const ok = (r: ReturnType<typeof imageEngine>) => {
  if ('problem' in r) throw new Error(`refused: ${r.problem}`);
  return r;
};
const problem = (r: ReturnType<typeof imageEngine>) => ('problem' in r ? r.problem : undefined);

describe('image family and login user', () => {
  it.each([
    ['al2023', 'amzn2023', 'ec2-user'],
    ['al2023arm', 'amzn2023', 'ec2-user'],
    ['amzn2', 'amzn2', 'ec2-user'],
    ['eksAmazonLinux2', 'amzn2', 'ec2-user'],
    ['ubuntuXenial', 'ubuntu', 'ubuntu'],
    ['ubuntuNoble', 'ubuntu', 'ubuntu'],
    ['debian', 'debian', 'admin'],
    ['fedora', 'fedora', 'fedora'],
    ['rocky', 'rocky', 'rocky'],
    ['alma', 'alma', 'ec2-user'],
    ['rhel7', 'rhel', 'ec2-user'],
    ['rhel9', 'rhel', 'ec2-user'],
    // Not families swarmup installs on: Amazon's (older or preview) Linux logs in as ec2-user, others as ubuntu.
    ['al2022', 'unknown', 'ec2-user'],
    ['suse', 'unknown', 'ubuntu'],
  ] as const)('%s: %s, logs in as %s', (key, family, user) => {
    expect(imageFamily(img[key])).toBe(family);
    expect(ok(imageEngine(img[key], { source: 'none' })).user).toBe(user);
  });

  it("an image of Canonical's account is Ubuntu whatever its name; ec2.user overrides the image's user", () => {
    expect(imageFamily({ Name: 'custom-build-7', OwnerId: '099720109477' })).toBe('ubuntu');
    expect(ok(imageEngine(img.al2023, byDefault, 'admin2')).user).toBe('admin2');
  });
});

describe('engine source per image', () => {
  it('Amazon Linux 2023 with engine.source left at docker-ce: its own docker package, and says so', () => {
    const r = ok(imageEngine(img.al2023, byDefault));
    expect(r.engine).toEqual({ source: 'distro' });
    expect(r.note).toMatch(/ami-0841e304792db6a16.*no docker-ce repository.*engine\.source distro/);
  });

  it('the configured source where it works: docker-ce on Ubuntu, Debian, Fedora, Rocky, Alma, RHEL; distro on apt systems and Amazon Linux 2023', () => {
    for (const k of ['ubuntuNoble', 'debian', 'fedora', 'rocky', 'alma', 'rhel9'] as const) {
      const r = ok(imageEngine(img[k], byDefault));
      expect(r.engine, k).toEqual({ source: 'docker-ce' });
      expect(r.note, k).toBeUndefined();
    }
    expect(ok(imageEngine(img.debian, { source: 'distro' })).engine).toEqual({ source: 'distro' });
    expect(ok(imageEngine(img.al2023, { source: 'distro', version: '25.0' })).engine).toEqual({
      source: 'distro',
      version: '25.0',
    });
    expect(
      ok(imageEngine(img.al2023, { source: 'docker-ce', version: '25.0', sourceDefaulted: true })).engine,
    ).toEqual({ source: 'distro', version: '25.0' });
  });

  it('an explicit source that cannot work there is refused, naming the image and what to pass', () => {
    expect(problem(imageEngine(img.al2023, { source: 'docker-ce' }))).toMatch(
      /^engine\.source docker-ce cannot work on AMI ami-0841e304792db6a16 \(al2023-ami-.*\): Docker's repository has no packages for Amazon Linux 2023; use engine\.source distro, or pass --ami/,
    );
    expect(problem(imageEngine(img.al2023, { source: 'script', version: '27.3' }))).toMatch(
      /engine\.source script cannot work on AMI ami-0841e304792db6a16.*get\.docker\.com does not support Amazon Linux 2023; use engine\.source distro/,
    );
    for (const k of ['fedora', 'rocky', 'alma', 'rhel9'] as const)
      expect(problem(imageEngine(img[k], { source: 'distro' })), k).toMatch(
        new RegExp(`cannot work on AMI ${img[k].ImageId}.*use engine\\.source docker-ce`),
      );
  });

  it('Amazon Linux 2 is refused unless the engine is in the image (engine.source none); Windows always', () => {
    expect(problem(imageEngine(img.amzn2, byDefault))).toMatch(
      /AMI ami-0ba84fc44e8b9291d \(amzn2-ami-.*\) is Amazon Linux 2.*Amazon Linux 2023 image.*engine\.source: none/,
    );
    expect(ok(imageEngine(img.amzn2, { source: 'none' }))).toEqual({
      family: 'amzn2',
      user: 'ec2-user',
      engine: { source: 'none' },
    });
    expect(problem(imageEngine(img.windows, { source: 'none' }))).toMatch(
      /AMI ami-b7e93bce .* is a Windows image.*--ami with a Linux image/,
    );
  });

  it('an OS not recognised keeps the configured source (the engine step reads the OS over SSH) and says how it logs in', () => {
    const r = ok(imageEngine(img.suse, byDefault));
    expect(r.engine).toEqual({ source: 'docker-ce' });
    expect(r.note).toMatch(/ami-35e92e4c.*not recognised.*logging in as ubuntu \(set ec2\.user/);
  });
});

describe('architecture', () => {
  it('the default image for an arm64-only instance type is the arm64 twin; a configured parameter stays', () => {
    expect(imageParameterFor(DEFAULT_AMI_PARAMETER, ['arm64'])).toBe(DEFAULT_AMI_PARAMETER_ARM64);
    expect(DEFAULT_AMI_PARAMETER_ARM64).toBe(
      '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
    );
    expect(imageParameterFor(DEFAULT_AMI_PARAMETER, ['x86_64'])).toBe(DEFAULT_AMI_PARAMETER);
    expect(imageParameterFor(DEFAULT_AMI_PARAMETER, ['i386', 'x86_64'])).toBe(DEFAULT_AMI_PARAMETER);
    expect(imageParameterFor('/my/own/ami-id', ['arm64'])).toBe('/my/own/ami-id');
  });

  it('an image whose architecture the instance type does not run is refused, naming both and what to pass', () => {
    expect(architectureProblem(img.al2023, 't4g.small', ['arm64'], '--ami')).toBe(
      '--ami: AMI ami-0841e304792db6a16 (al2023-ami-2023.11.20260427.1-kernel-6.1-x86_64) is built for x86_64, ' +
        'but instance type t4g.small runs arm64: pass --ami with an image for arm64, or an instance type for x86_64 ' +
        'with --instance-type',
    );
    expect(architectureProblem(img.ubuntuNoble, 't3.small', ['x86_64'], '--ami')).toMatch(
      /built for arm64, but instance type t3\.small runs x86_64/,
    );
    expect(architectureProblem(img.al2023arm, 'm7g.large', ['arm64'], '--ami')).toBeUndefined();
    expect(architectureProblem(img.rhel7, 't2.micro', ['i386', 'x86_64'], '--ami')).toBeUndefined();
  });
});

/** The packages of the last install command of a script (apt-get or dnf). */
function packagesOf(script: string): string[] {
  const all = [...script.matchAll(/(?:dnf -y|Timeout=600(?: --allow-downgrades)?) install ([^&\n]+)/g)];
  return all.at(-1)![1]!.trim().split(/\s+/);
}

/** os-release of the image's family, for the engine step's plan. */
function osReleaseOf(family: Exclude<ImageFamily, 'unknown'>): string {
  const version = {
    amzn2023: '2023',
    amzn2: '2',
    ubuntu: '24.04',
    debian: '12',
    fedora: '41',
    rocky: '9.5',
    alma: '9.5',
    rhel: '9.4',
  }[family];
  return `ID="${FAMILIES[family].osId}"\nVERSION_ID="${version}"\nVERSION_CODENAME=noble\nPRETTY_NAME="${FAMILIES[family].label} ${version}"\n`;
}

describe('user data per family', () => {
  it('Amazon Linux 2023, default source: dnf installs its docker package, then systemd starts it; only on amzn', () => {
    const ud = engineUserData('amzn2023', ok(imageEngine(img.al2023, byDefault)).engine)!;
    expect(ud).toContain('dnf -y install docker\n');
    expect(ud).toContain('systemctl enable --now docker');
    expect(ud).toContain('[ "$ID" = amzn ] || exit 0');
    expect(ud).not.toMatch(/docker-ce|apt-get/);
  });

  it("Fedora, Rocky, Alma, RHEL with docker-ce: Docker's dnf repository for that system", () => {
    const repo = { fedora: 'fedora', rocky: 'centos', alma: 'centos', rhel: 'rhel' } as const;
    const id = { fedora: 'fedora', rocky: 'rocky', alma: 'almalinux', rhel: 'rhel' } as const;
    for (const family of ['fedora', 'rocky', 'alma', 'rhel'] as const) {
      const ud = engineUserData(family, { source: 'docker-ce' })!;
      expect(ud, family).toContain(`https://download.docker.com/linux/${repo[family]}/docker-ce.repo`);
      expect(ud, family).toContain('dnf -y install docker-ce docker-ce-cli containerd.io');
      expect(ud, family).toContain(`[ "$ID" = ${id[family]} ] || exit 0`);
      expect(ud, family).toContain('systemctl enable --now docker');
    }
  });

  it("Ubuntu and Debian: Docker's apt repository for docker-ce, docker.io for distro", () => {
    expect(engineUserData('ubuntu', { source: 'docker-ce' })).toMatch(
      /download\.docker\.com\/linux\/\$ID \$VERSION_CODENAME stable/,
    );
    expect(engineUserData('debian', { source: 'distro' })).toMatch(/install docker\.io \$cli\n/);
    expect(engineUserData('debian', { source: 'distro' })).toContain('[ "$ID" = debian ] || exit 0');
  });

  it('none where nothing can start at boot: pinned versions, script, none, Amazon Linux 2, an unknown OS, a source that does not fit', () => {
    expect(engineUserData('ubuntu', { source: 'docker-ce', version: '27.3' })).toBeUndefined();
    expect(engineUserData('amzn2023', { source: 'distro', version: '25.0' })).toBeUndefined();
    expect(engineUserData('ubuntu', { source: 'script' })).toBeUndefined();
    expect(engineUserData('rocky', { source: 'none' })).toBeUndefined();
    expect(engineUserData('amzn2', { source: 'distro' })).toBeUndefined();
    expect(engineUserData('unknown', { source: 'docker-ce' })).toBeUndefined();
    expect(engineUserData('amzn2023', { source: 'docker-ce' })).toBeUndefined();
    expect(engineUserData('fedora', { source: 'distro' })).toBeUndefined();
  });

  it('every family: the user data is valid sh and installs the very packages the engine step would install there', () => {
    const imageOf = {
      amzn2023: img.al2023,
      ubuntu: img.ubuntuNoble,
      debian: img.debian,
      fedora: img.fedora,
      rocky: img.rocky,
      alma: img.alma,
      rhel: img.rhel9,
    };
    for (const [family, image] of Object.entries(imageOf) as Array<[keyof typeof imageOf, ImageFacts]>) {
      for (const wanted of [byDefault, { source: 'distro' } as EngineWanted]) {
        const chosen = imageEngine(image, wanted);
        if ('problem' in chosen) continue; // refused before launch: no user data to compare
        const ud = engineUserData(family, chosen.engine);
        expect(ud, `${family} ${wanted.source}`).toBeDefined();
        execFileSync('sh', ['-n'], { input: ud });
        const plan = planEngine(facts({}, osReleaseOf(family)), wanted);
        expect(plan.problem, `${family} ${wanted.source}`).toBeUndefined();
        const installScript = plan.steps.map((s) => s.script).join('\n');
        expect(packagesOf(ud!), `${family} ${wanted.source}`).toEqual(packagesOf(installScript));
      }
    }
  });
});

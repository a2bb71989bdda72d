// `uname -r` of a trace header -> the upstream release it is based on, per distribution numbering.
// Only what the string really says is used: Debian 13+ (`6.12.107+deb13-amd64`) and Fedora
// (`6.11.4-301.fc41.x86_64`) name the upstream stable point; Ubuntu (`6.8.0-45-generic`), older
// Debian (`5.10.0-28-amd64`) and RHEL (`5.14.0-427.13.1.el9_4.x86_64`) name only the mainline
// base and their own ABI/build number, which does not map to an upstream point (nor to the
// backports the distribution added), so only the mainline release is known for them.

export type Distro = 'upstream' | 'debian' | 'fedora' | 'ubuntu' | 'rhel' | 'other';

export interface UnameInfo {
  distro: Distro;
  /** [major, minor] or [major, minor, point]: the upstream version the string proves. */
  upstream: number[];
  /** What the mapping could and could not tell, for the warning. */
  note: string;
}

const DEBIAN_FLAVORS = /^(?:amd64|arm64|armmp(?:-lpae)?|cloud-amd64|cloud-arm64|rt-amd64|rt-arm64|686(?:-pae)?|powerpc64le|s390x|riscv64|loong64|mips64r2el|octeon)$/;
const UBUNTU_FLAVORS = /^(?:generic|lowlatency|generic-64k|lowlatency-64k|generic-lpae|aws|azure|gcp|gke|kvm|oracle|ibm|nvidia|raspi|oem|realtime|intel-iotg|xilinx-zynqmp)$/;

function nums(...xs: string[]): number[] {
  return xs.map(Number);
}

/** Parses a `uname -r`; undefined when it does not start with a Linux version. */
export function parseUname(uname: string): UnameInfo | undefined {
  const u = uname.trim().replace(/^linux-/, '');
  let m = /^(\d+)\.(\d+)\.(\d+)\+deb(\d+)(?:u\d+)?-([\w-]+)$/.exec(u);
  if (m !== null) return { distro: 'debian', upstream: nums(m[1], m[2], m[3]), note: `Debian ${m[4]} numbering: +debNN kernels carry the upstream point ${m[1]}.${m[2]}.${m[3]} (Debian's own patches are not modeled)` };
  m = /^(\d+)\.(\d+)\.(\d+)-(\d+)\.fc(\d+)\.\w+$/.exec(u);
  if (m !== null) return { distro: 'fedora', upstream: nums(m[1], m[2], m[3]), note: `Fedora ${m[5]} numbering: the kernel is upstream ${m[1]}.${m[2]}.${m[3]}, Fedora build ${m[4]}` };
  m = /^(\d+)\.(\d+)\.0-(\d+)(?:\.[\d.]+)?\.el(\d+)[\w.]*$/.exec(u);
  if (m !== null)
    return { distro: 'rhel', upstream: nums(m[1], m[2]), note: `RHEL ${m[4]} numbering: based on mainline ${m[1]}.${m[2]} with build ${m[3]}; the backports it carries are not known from the string` };
  m = /^(\d+)\.(\d+)\.0-(\d+)-([\w-]+)$/.exec(u);
  if (m !== null && UBUNTU_FLAVORS.test(m[4]))
    return {
      distro: 'ubuntu',
      upstream: nums(m[1], m[2]),
      note: `Ubuntu numbering: based on mainline ${m[1]}.${m[2]}, ABI ${m[3]}; an Ubuntu ABI number does not say which ${m[1]}.${m[2]}.y point or backports it carries, so only ${m[1]}.${m[2]} is known`,
    };
  if (m !== null && DEBIAN_FLAVORS.test(m[4]))
    return {
      distro: 'debian',
      upstream: nums(m[1], m[2]),
      note: `Debian numbering before +debNN: based on mainline ${m[1]}.${m[2]}, ABI ${m[3]}; the upstream point is in the package version, not in uname, so only ${m[1]}.${m[2]} is known`,
    };
  m = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(u);
  if (m === null) return undefined;
  const rest = m[4];
  const upstream = m[3] === undefined || m[3] === '0' ? nums(m[1], m[2]) : nums(m[1], m[2], m[3]);
  if (rest === '' || /^-rc\d+$/.test(rest)) return { distro: 'upstream', upstream, note: '' };
  return { distro: 'other', upstream, note: `unknown numbering "${rest}": read as upstream ${upstream.join('.')}` };
}

// Fetches a Debian kernel for the lab: the newest available release of a series, its vmlinuz and
// the vfio modules it needs, cached under lab/.cache. 6.1 comes through the system's apt; 6.12 and
// 7.2 come from trixie and sid through a PRIVATE apt configuration (own sources list, lists,
// caches) that leaves the system's apt state alone.
//
// Entry points (also used by lab/vmm for the nested-QEMU work):
//   fetchKernel(series, cacheDir) -> KernelBuild
//   userKernel(bzImage, modulesDir, cacheDir) -> KernelBuild
// KernelBuild = { series, release, version, root (fetched ones), vmlinuz, modulesDir, modules: [abs .ko paths in load
//                 order], packages: [{name, version, bytes}], downloadBytes }
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { log, run } from './sh.mjs';

/** What the lab loads in the guest; modules.dep supplies their dependencies. */
export const ROOT_MODULES = ['vfio-pci', 'vfio_iommu_type1'];

export const SERIES = {
  '6.1': { apt: 'system', packages: [/^linux-image-6\.1\.0-\d+-amd64-unsigned$/] },
  '6.12': { apt: 'private', packages: [/^linux-image-6\.12\.\d+\+deb13-amd64-unsigned$/] },
  // In sid the image package is a metapackage; the binary, the modules and the base (config,
  // System.map) are separate packages sharing the release string.
  // aarch64 with 16K pages (Debian's arm64-16k flavour), booted under qemu-system-aarch64 (TCG)
  // with an SMMUv3 (the kernel has no VFIO_NOIOMMU); the guest's busybox comes from the same apt.
  '6.12-arm64-16k': { apt: 'private', arch: 'arm64', packages: [/^linux-image-6\.12\.\d+\+deb13-arm64-16k-unsigned$/] },
  '7.2': {
    apt: 'private',
    packages: [
      /^linux-binary-unsigned-7\.2\.\d+\+deb14-amd64$/,
      /^linux-modules-7\.2\.\d+\+deb14-amd64$/,
      /^linux-base-7\.2\.\d+\+deb14-amd64$/,
    ],
  },
};

/** apt options that point every apt tool at the private configuration under `dir`. */
function privateAptOpts(dir) {
  return [
    '-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    // Named explicitly so apt-cache keeps its binary cache here (otherwise every call re-parses
    // the sid and trixie lists: ~10 s each).
    '-o', `Dir::Cache::pkgcache=${join(dir, 'cache', 'pkgcache.bin')}`,
    '-o', `Dir::Cache::srcpkgcache=${join(dir, 'cache', 'srcpkgcache.bin')}`,
    '-o', `Dir::State::status=${join(dir, 'status')}`,
    '-o', 'APT::Get::List-Cleanup=false',
  ];
}

/**
 * The mirror URI (no trailing slash) and keyring of the system's own Debian source, skipping the
 * security suite. Shared with lab/vmm's QEMU staging, which derives the security mirror from it.
 */
export function systemMirror() {
  const d = '/etc/apt/sources.list.d';
  const files = existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.sources')).map((f) => join(d, f)) : [];
  for (const f of files) {
    for (const stanza of readFileSync(f, 'utf8').split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
      if (!uri || !/\/debian\/?$/.test(uri) || /security/.test(suites)) continue;
      const key = /^Signed-By:\s*(\S+)/m.exec(stanza)?.[1];
      return { uri: uri.replace(/\/$/, ''), key: key ?? '/usr/share/keyrings/debian-archive-keyring.gpg' };
    }
  }
  if (existsSync('/etc/apt/sources.list')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(readFileSync('/etc/apt/sources.list', 'utf8'));
    if (m) return { uri: m[1], key: '/usr/share/keyrings/debian-archive-keyring.gpg' };
  }
  return { uri: 'http://deb.debian.org/debian', key: '/usr/share/keyrings/debian-archive-keyring.gpg' };
}

/** Creates (once per lab run) and updates the private apt configuration; returns its options. */
const updated = new Set();
function privateApt(cacheDir, arch = 'amd64') {
  const dir = join(cacheDir, arch === 'amd64' ? 'apt-private' : `apt-private-${arch}`);
  for (const sub of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, sub), { recursive: true });
  const { uri, key } = systemMirror();
  const suites = arch === 'amd64' ? ['trixie', 'sid'] : ['trixie'];
  writeFileSync(join(dir, 'sources.list'), suites.map((x) => `deb [arch=${arch} signed-by=${key}] ${uri} ${x} main\n`).join(''));
  if (!existsSync(join(dir, 'status'))) writeFileSync(join(dir, 'status'), '');
  const opts = [...privateAptOpts(dir), ...(arch === 'amd64' ? [] : ['-o', `APT::Architecture=${arch}`, '-o', `APT::Architectures=${arch}`])];
  if (!updated.has(dir)) {
    log(`apt-get update (private: trixie, sid from ${uri})`);
    try {
      run('apt-get', [...opts, 'update', '-q']);
    } catch (e) {
      // Offline with lists from an earlier run: resolve from those (and the cached .debs).
      const lists = readdirSync(join(dir, 'lists')).filter((f) => f.endsWith('_Packages'));
      if (lists.length === 0) throw e;
      log(`apt-get update failed; using the package lists of an earlier run (${e.message.split('\n')[0]})`);
    }
    updated.add(dir);
  }
  return opts;
}

export function aptOpts(kind, cacheDir, arch = 'amd64') {
  return kind === 'system' ? [] : privateApt(cacheDir, arch);
}

/** Newest package whose name matches `re` (names carry the release: sort them as versions). */
export function newestPackage(opts, re) {
  const out = run('apt-cache', [...opts, 'search', '--names-only', re.source.replace(/\\d\+/g, '[0-9]+')]);
  const names = out.split('\n').map((l) => l.split(' - ')[0].trim()).filter((n) => re.test(n));
  if (names.length === 0) throw new Error(`no package matching ${re} in the apt sources`);
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const name = names[names.length - 1];
  const version = /^Version:\s*(\S+)/m.exec(run('apt-cache', [...opts, 'show', '--no-all-versions', name]))?.[1];
  if (!version) throw new Error(`apt-cache show ${name}: no version`);
  return { name, version };
}

/** Downloads `name=version` into cacheDir/debs unless already there; returns the .deb path. */
/**
 * The names `apt-get download` gives the .deb of `pkg`: it url-encodes the ':' of an epoch
 * (busybox-static_1%3a1.37.0-6+b9_arm64.deb), and architecture-independent packages
 * (linux-source) are _all.deb. Exact names only: another cached version of the package is not it.
 */
export function debFileNames(pkg, arch = 'amd64') {
  const version = pkg.version.replace(/:/g, '%3a');
  return [`${pkg.name}_${version}_${arch}.deb`, `${pkg.name}_${version}_all.deb`];
}

export function download(opts, pkg, cacheDir, arch = 'amd64') {
  const debs = join(cacheDir, 'debs');
  mkdirSync(debs, { recursive: true });
  const cached = () => debFileNames(pkg, arch).map((f) => join(debs, f)).find((p) => existsSync(p));
  let path = cached();
  if (path === undefined) {
    log(`downloading ${pkg.name} ${pkg.version}`);
    run('apt-get', [...opts, 'download', '-q', `${pkg.name}=${pkg.version}`], { cwd: debs });
    path = cached();
    if (path === undefined) throw new Error(`apt-get download ${pkg.name}=${pkg.version} wrote none of ${debFileNames(pkg, arch).join(', ')} in ${debs}`);
  }
  return path;
}

/** The one directory under `root`/{lib,usr/lib}/modules. */
export function modulesDirOf(root) {
  for (const base of ['lib/modules', 'usr/lib/modules']) {
    const d = join(root, base);
    if (!existsSync(d)) continue;
    const rel = readdirSync(d).filter((n) => existsSync(join(d, n, 'kernel')));
    if (rel.length === 1) return join(d, rel[0]);
  }
  throw new Error(`no lib/modules/RELEASE/kernel under ${root}`);
}

function findVmlinuz(root, release) {
  const cands = [
    join(root, 'boot', `vmlinuz-${release}`),
    join(root, 'usr/lib/modules', release, 'vmlinuz.unsigned'),
    join(root, 'usr/lib/modules', release, 'vmlinuz'),
    join(root, 'lib/modules', release, 'vmlinuz'),
  ];
  const hit = cands.find((p) => existsSync(p));
  if (!hit) throw new Error(`no vmlinuz for ${release} under ${root}`);
  return hit;
}

/** Runs depmod once for the tree (merged-/usr trees get the lib -> usr/lib link depmod needs). */
export function ensureDepmod(root, release) {
  const modDir = modulesDirOf(root);
  if (existsSync(join(modDir, 'modules.dep'))) return modDir;
  if (!existsSync(join(root, 'lib')) && existsSync(join(root, 'usr/lib'))) symlinkSync('usr/lib', join(root, 'lib'));
  log(`depmod ${release}`);
  run('depmod', ['-b', root, release]);
  return modDir;
}

/**
 * The modules to insmod, in load order (dependencies first), as absolute paths. Compressed
 * modules are decompressed next to the original (busybox insmod loads only plain .ko).
 */
export function resolveModules(modDir, roots = ROOT_MODULES, { depFile, scratchDir } = {}) {
  const dep = readFileSync(depFile ?? join(modDir, 'modules.dep'), 'utf8');
  const table = new Map();
  for (const line of dep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = basename(m[1]).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
    table.set(name, { path: m[1], deps: m[2].split(/\s+/).filter(Boolean) });
  }
  const order = [];
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    const name = basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
    const ent = table.get(name);
    // modules.dep lists dependencies in the order modprobe would load them last-first.
    for (const d of [...(ent?.deps ?? [])].reverse()) visit(d);
    order.push(path);
  };
  for (const r of roots) {
    const ent = table.get(r.replace(/-/g, '_'));
    if (!ent) throw new Error(`module ${r} not found in ${modDir}/modules.dep`);
    visit(ent.path);
  }
  return order.map((rel) => plainKo(join(modDir, rel), scratchDir));
}

/** The module as a plain .ko: compressed ones are decompressed next to it, or into scratchDir. */
function plainKo(path, scratchDir) {
  const m = /^(.*\.ko)\.(xz|zst|gz)$/.exec(path);
  if (!m) return path;
  let out = m[1];
  if (scratchDir) {
    mkdirSync(scratchDir, { recursive: true });
    out = join(scratchDir, basename(m[1]));
  }
  if (!existsSync(out) || statSync(out).size === 0) {
    const tool = { xz: 'xz', zst: 'zstd', gz: 'gzip' }[m[2]];
    writeFileSync(out, execFileSync(tool, ['-dc', path], { maxBuffer: 1 << 28 }));
  }
  return out;
}

/** busybox-static of `arch` from the apt configuration `opts`, extracted into the cache: its path. */
function fetchBusybox(opts, cacheDir, arch) {
  const pkg = newestPackage(opts, /^busybox-static$/);
  const deb = download(opts, pkg, cacheDir, arch);
  const root = join(cacheDir, 'busybox', `${arch}_${pkg.version.replace(/^\d+:/, '')}`);
  if (!existsSync(join(root, 'bin/busybox')) && !existsSync(join(root, 'usr/bin/busybox'))) {
    mkdirSync(root, { recursive: true });
    run('dpkg-deb', ['-x', deb, root]);
  }
  return existsSync(join(root, 'bin/busybox')) ? join(root, 'bin/busybox') : join(root, 'usr/bin/busybox');
}

/** Fetches (or reuses from the cache) the newest kernel of `series`. */
export function fetchKernel(series, cacheDir) {
  const spec = SERIES[series];
  if (!spec) throw new Error(`unknown kernel series ${series} (known: ${Object.keys(SERIES).join(', ')})`);
  const arch = spec.arch ?? 'amd64';
  const opts = aptOpts(spec.apt, cacheDir, arch);
  const pkgs = spec.packages.map((re) => newestPackage(opts, re));
  const key = pkgs.map((p) => `${p.name}_${p.version}`).join('+');
  const root = join(cacheDir, 'kernels', key);
  const paths = pkgs.map((p) => download(opts, p, cacheDir, arch));
  if (!existsSync(join(root, '.extracted'))) {
    mkdirSync(root, { recursive: true });
    for (const deb of paths) run('dpkg-deb', ['-x', deb, root]);
    writeFileSync(join(root, '.extracted'), key + '\n');
  }
  const release = basename(modulesDirOf(root));
  const modDir = ensureDepmod(root, release);
  const packages = pkgs.map((p, i) => ({ ...p, bytes: statSync(paths[i]).size }));
  return {
    series,
    arch,
    // Another architecture's guest needs that architecture's static busybox.
    ...(arch === 'amd64' ? {} : { busybox: fetchBusybox(opts, cacheDir, arch) }),
    release,
    version: pkgs[0].version,
    root,
    vmlinuz: findVmlinuz(root, release),
    modulesDir: modDir,
    modules: resolveModules(modDir),
    packages,
    downloadBytes: packages.reduce((s, p) => s + p.bytes, 0),
  };
}

/**
 * A user's own kernel: a bzImage and its modules directory (`.../lib/modules/RELEASE`, as
 * `make modules_install INSTALL_MOD_PATH=X` leaves it). When it has no modules.dep, depmod runs
 * through a link root with its output in the cache.
 */
export function userKernel(bzImage, modulesDir, cacheDir) {
  if (!existsSync(bzImage)) throw new Error(`--bzimage ${bzImage}: no such file`);
  if (!existsSync(join(modulesDir, 'kernel'))) throw new Error(`--modules ${modulesDir}: expected lib/modules/RELEASE (with kernel/)`);
  const release = basename(modulesDir.replace(/\/+$/, ''));
  // Nothing is written into the user's directory: depmod output and decompressed modules go
  // to the cache.
  const work = join(cacheDir, 'user-kernels', release);
  let depFile = join(modulesDir, 'modules.dep');
  if (!existsSync(depFile)) {
    // A root whose lib/modules/RELEASE is our own directory of links to the user's entries:
    // depmod scans through the links and writes its files into our directory.
    const dir = join(work, 'root/lib/modules', release);
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(modulesDir)) {
      const link = join(dir, name);
      if (!existsSync(link)) symlinkSync(join(modulesDir, name), link);
    }
    run('depmod', ['-b', join(work, 'root'), release]);
    depFile = join(dir, 'modules.dep');
  }
  return {
    series: 'user',
    release,
    version: release,
    vmlinuz: bzImage,
    modulesDir,
    modules: resolveModules(modulesDir, ROOT_MODULES, { depFile, scratchDir: join(work, 'ko') }),
    packages: [],
    downloadBytes: 0,
  };
}

// Kernels the lab BUILDS instead of downloading: Debian's linux-source of a series with Debian's own
// config for it, trimmed to what the lab guest loads and extended by a config fragment
// (lab/kconfig/<name>.config). Today one: 6.12-iommufd (CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV),
// which no Debian kernel package has. The build is cached under lab/.cache/built/<name>_<version>/;
// build.json there records how long the first build took.
//
//   builtKernel(name, cacheDir, labDir) -> KernelBuild (the shape fetchKernel returns)
//   node lab/lib/kernel-build.mjs NAME   builds (or finds) it and prints where it is
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { aptOpts, download, fetchKernel, modulesDirOf, ensureDepmod, resolveModules } from './kernels.mjs';
import { log, run } from './sh.mjs';
import { ensureKernelBuildDeps } from './host-deps.mjs';

export const BUILT = {
  '6.12-iommufd': {
    // The Debian kernel series whose linux-source and config are used (same package version).
    base: '6.12',
    sourcePackage: 'linux-source-6.12',
    apt: 'private',
    // iommufd is what the cdev scenarios open; vfio pulls it in anyway, named so it is explicit.
    roots: ['vfio-pci', 'vfio_iommu_type1', 'iommufd'],
  },
};

/** make under nice: 2 shared cores (COMMON.md), so -j2 at the lowest priority that still moves. */
function make(src, args, log_) {
  const r = spawnSync('nice', ['-n', '15', 'make', '-C', src, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  writeFileSync(log_, (r.stdout ?? '') + (r.stderr ?? ''), { flag: 'a' });
  if (r.status !== 0) throw new Error(`make ${args.join(' ')} failed (exit ${r.status}); see ${log_}:\n${(r.stderr ?? '').trim().split('\n').slice(-15).join('\n')}`);
}

/** Lines `CONFIG_X=v` / `# CONFIG_X is not set` of a fragment, as [symbol, value|'n']. */
export function fragmentSettings(text) {
  const out = [];
  for (const line of text.split('\n')) {
    let m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.push([m[1], m[2]]);
    else if ((m = /^# (CONFIG_\w+) is not set$/.exec(line))) out.push([m[1], 'n']);
  }
  return out;
}

/** The settings of the fragment that the final .config does not have (olddefconfig dropped them). */
export function missingSettings(fragment, config) {
  const have = new Map(fragmentSettings(config));
  // A symbol olddefconfig leaves out altogether is off.
  return fragmentSettings(fragment).filter(([k, v]) => (have.get(k) ?? 'n') !== v);
}

export function builtKernel(name, cacheDir, labDir) {
  const spec = BUILT[name];
  if (!spec) throw new Error(`unknown built kernel ${name} (known: ${Object.keys(BUILT).join(', ')})`);
  // The Debian image of the same series supplies the config the source is built with.
  const base = fetchKernel(spec.base, cacheDir);
  const pkg = { name: spec.sourcePackage, version: base.version };
  const dir = join(cacheDir, 'built', `${name}_${base.version}`);
  const out = join(dir, 'out');
  const fragPath = join(labDir, 'kconfig', `${name}.config`);
  const fragment = readFileSync(fragPath, 'utf8');
  if (!existsSync(join(dir, '.done'))) {
    // A fresh machine has none of the build tools; the lab installs its own dependencies.
    ensureKernelBuildDeps();
    const opts = aptOpts(spec.apt, cacheDir);
    const deb = download(opts, pkg, cacheDir);
    const src = join(dir, 'src');
    const buildLog = join(dir, 'build.log');
    mkdirSync(dir, { recursive: true });
    const t0 = Date.now();
    const load0 = loadavg()[0];
    if (!existsSync(join(src, 'Makefile'))) {
      log(`${name}: unpacking ${pkg.name} ${pkg.version}`);
      rmSync(src, { recursive: true, force: true });
      const x = join(dir, 'deb');
      run('dpkg-deb', ['-x', deb, x]);
      mkdirSync(src, { recursive: true });
      const tarball = run('sh', ['-c', `ls ${x}/usr/src/linux-source-*.tar.xz`]).trim();
      run('tar', ['-xf', tarball, '-C', src, '--strip-components=1']);
      rmSync(x, { recursive: true, force: true });
    }
    const cfg = [join(base.root, 'boot', `config-${base.release}`), join(base.modulesDir, 'config')].find((p) => existsSync(p));
    if (!cfg) throw new Error(`${name}: no config-${base.release} in the Debian package of ${spec.base}`);
    copyFileSync(cfg, join(src, '.config'));
    log(`${name}: config from ${cfg}, trimmed to ${name}.lsmod + ${name}.config`);
    make(src, [`LSMOD=${join(labDir, 'kconfig', `${name}.lsmod`)}`, 'localmodconfig'], buildLog);
    run(join(src, 'scripts/kconfig/merge_config.sh'), ['-m', '-O', src, join(src, '.config'), fragPath], { cwd: src });
    make(src, ['olddefconfig'], buildLog);
    const missing = missingSettings(fragment, readFileSync(join(src, '.config'), 'utf8'));
    if (missing.length) throw new Error(`${name}: olddefconfig did not keep ${missing.map(([k, v]) => `${k}=${v}`).join(', ')} (dependencies?)`);
    log(`${name}: building (nice -n 15 make -j2 bzImage modules; log ${buildLog})`);
    make(src, ['-j2', 'bzImage', 'modules'], buildLog);
    rmSync(out, { recursive: true, force: true });
    make(src, [`INSTALL_MOD_PATH=${out}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], buildLog);
    copyFileSync(join(src, 'arch/x86/boot/bzImage'), join(dir, 'bzImage'));
    copyFileSync(join(src, '.config'), join(dir, 'config'));
    const wallSeconds = Math.round((Date.now() - t0) / 1000);
    writeFileSync(
      join(dir, 'build.json'),
      JSON.stringify({ name, source: `${pkg.name} ${pkg.version}`, make: 'nice -n 15 make -j2 bzImage modules', wallSeconds, loadAvgAtStart: load0, loadAvgAtEnd: loadavg()[0], finished: new Date().toISOString() }, null, 2) + '\n',
    );
    writeFileSync(join(dir, '.done'), '');
    log(`${name}: built in ${wallSeconds}s`);
  }
  const modDir = modulesDirOf(out);
  const release = modDir.split('/').pop();
  ensureDepmod(out, release);
  return {
    series: name,
    release,
    version: base.version,
    vmlinuz: join(dir, 'bzImage'),
    modulesDir: modDir,
    modules: resolveModules(modDir, spec.roots),
    packages: [{ name: pkg.name, version: pkg.version, bytes: 0 }],
    downloadBytes: 0,
    built: JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const labDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const k = builtKernel(process.argv[2] ?? '6.12-iommufd', join(labDir, '.cache'), labDir);
    console.log(JSON.stringify({ release: k.release, vmlinuz: k.vmlinuz, modules: k.modules, built: k.built }, null, 2));
  } catch (e) {
    process.stderr.write(`kernel-build: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

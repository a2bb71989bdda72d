// Builds a busybox initramfs (newc cpio, gzip) for the lab guest.
//
// Entry point (also used by lab/vmm):
//   buildInitramfs({ out, init, modules, binaries, files, compress })
//     init      text of /init (a busybox sh script)
//     modules   absolute .ko paths in load order -> /mods/NN-name.ko plus /mods/order
//     binaries  host executables copied with the shared libraries `ldd` lists (strace, lspci...)
//     files     [{ dest, src } | { dest, text, mode }] extra files
//     compress  'gzip' (default) or 'none'
// Returns { out, bytes }.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { run } from './sh.mjs';

/** Copies `src` to `root/dest` (dest absolute inside the image), creating directories. */
function put(root, dest, src, mode) {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(src, to);
  if (mode !== undefined) chmodSync(to, mode);
}

/** The shared libraries (and loader) a dynamic executable needs, as absolute host paths. */
export function sharedLibs(bin) {
  let out;
  try {
    out = run('ldd', [bin]);
  } catch {
    return []; // static
  }
  const libs = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

export function buildInitramfs({ out, init, modules = [], binaries = [], files = [], compress = 'gzip', busybox = '/bin/busybox' }) {
  const root = mkdtempSync(join(tmpdir(), 'vfio-lab-root-'));
  try {
    for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'mods', 'etc', 'usr/bin', 'usr/sbin']) {
      mkdirSync(join(root, d), { recursive: true });
    }
    // The guest's busybox (another architecture's for a foreign guest); its applet list is the host's.
    put(root, '/bin/busybox', busybox, 0o755);
    const applets = run('/bin/busybox', ['--list']).split('\n').filter(Boolean);
    for (const a of applets) {
      const p = join(root, 'bin', a);
      if (!existsSync(p)) symlinkSync('busybox', p);
    }
    const order = [];
    modules.forEach((ko, i) => {
      const name = `${String(i).padStart(2, '0')}-${basename(ko)}`;
      put(root, `/mods/${name}`, ko);
      order.push(name);
    });
    writeFileSync(join(root, 'mods/order'), order.join('\n') + '\n');
    for (const bin of binaries) {
      put(root, bin, bin, 0o755);
      for (const lib of sharedLibs(bin)) if (!existsSync(join(root, lib))) put(root, lib, lib);
    }
    // Debian's loader path is /lib64/ld-linux-x86-64.so.2 -> keep the usr-merge links the libs expect.
    if (existsSync(join(root, 'usr/lib')) && !existsSync(join(root, 'lib'))) symlinkSync('usr/lib', join(root, 'lib'));
    for (const f of files) {
      if (f.src) put(root, f.dest, f.src, f.mode);
      else {
        const to = join(root, f.dest);
        mkdirSync(dirname(to), { recursive: true });
        writeFileSync(to, f.text);
        if (f.mode !== undefined) chmodSync(to, f.mode);
      }
    }
    writeFileSync(join(root, 'init'), init);
    chmodSync(join(root, 'init'), 0o755);
    mkdirSync(dirname(out), { recursive: true });
    // Sorted file list and fixed mtimes: the image is the same bytes for the same inputs.
    const list = run('sh', ['-c', 'find . -print0 | LC_ALL=C sort -z | tr "\\0" "\\n"'], { cwd: root });
    const cpioCmd = `cpio -o -H newc --quiet --reproducible -R 0:0`;
    const pipe = compress === 'gzip' ? `${cpioCmd} | gzip -n -6 > "${out}"` : `${cpioCmd} > "${out}"`;
    run('sh', ['-c', `find . -exec touch -h -d @0 {} + && printf '%s' "$LIST" | ${pipe}`], {
      cwd: root,
      env: { ...process.env, LIST: list },
    });
    return { out, bytes: statSync(out).size };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

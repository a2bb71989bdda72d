// The one output policy of every command: a reader that goes away (`vfio-replay dump t.pb | head`,
// `vfio-replay import --help | head -3`) is not an error. Node reports the closed pipe as an 'error'
// event on process.stdout/stderr, which without a listener ends the process with a stack trace and
// exit 1; here it only marks the stream gone, later writes are dropped, and the command ends with
// the status it would have had. Commands printing a lot check stdoutGone() to stop early.

let gone = false;

/** Whether stdout's reader has gone away. */
export function stdoutGone(): boolean {
  return gone;
}

function isClosedPipe(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** Installs the policy on process.stdout and process.stderr; call once before any output. */
export function quietOnClosedOutput(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (isClosedPipe(err)) {
      gone = true;
      return;
    }
    // Any other write failure (a full disk behind `> file`): one line, exit 2, like bad input.
    process.stderr.write(`vfio-replay: cannot write standard output: ${err.code ?? err.message}\n`);
    process.exit(2);
  });
  process.stderr.on('error', () => {
    // Nowhere left to report anything: the exit status still says how the command went.
  });
}

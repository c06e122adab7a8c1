/**
 * The one shutdown handler: the first SIGINT/SIGTERM starts a graceful stop, a second one forces exit.
 */
let installed = false;
let signalled: Promise<NodeJS.Signals> | undefined;

/** Resolves on the first SIGINT or SIGTERM; a second signal exits the process at once (code 130). */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  if (signalled) return signalled;
  signalled = new Promise((resolve) => {
    const first = (sig: NodeJS.Signals): void => {
      if (installed) {
        process.stderr.write(`second ${sig}: exiting now\n`);
        process.exit(130);
      }
      installed = true;
      resolve(sig);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
  return signalled;
}

/** Runs `stop` on the first signal, with a deadline after which the process exits anyway. */
export async function runUntilSignal(stop: () => Promise<void>, deadlineMs = 15_000): Promise<void> {
  await waitForShutdownSignal();
  const timer = setTimeout(() => {
    process.stderr.write(`graceful shutdown took longer than ${deadlineMs} ms: exiting\n`);
    process.exit(1);
  }, deadlineMs);
  timer.unref();
  await stop();
  clearTimeout(timer);
}

/**
 * A task for the crash test, loaded into `npm run dev` with `--import`: each run writes a line when
 * its body starts and one when it ends, with the process it ran in, to the file named by
 * CELERITY_CRASH_LEDGER. With CELERITY_CRASH_HOLD=1 a body never ends: the local cloud is killed
 * while it holds the messages, as a crash mid-run would leave them.
 */
import { appendFileSync } from 'node:fs';
import { defineTask } from '../../shared/task/index.ts';

export const CRASH_TASK = 'test.crash.record';

export const crashTask = defineTask(CRASH_TASK, async (ctx) => {
  const ledger = process.env.CELERITY_CRASH_LEDGER;
  if (!ledger) throw new Error('CELERITY_CRASH_LEDGER is not set');
  appendFileSync(ledger, `start ${ctx.request.id} ${process.pid}\n`);
  if (process.env.CELERITY_CRASH_HOLD === '1') await new Promise<never>(() => undefined);
  appendFileSync(ledger, `end ${ctx.request.id} ${process.pid}\n`);
  return null;
});

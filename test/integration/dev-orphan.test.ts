import { existsSync } from 'node:fs';
import { CreateQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../localstack/dev/state-file.ts';
import { motoAnswers } from '../../localstack/emulator/emulator.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { groupAlive, useDevRuns } from '../support/dev-process.ts';
import { until } from '../support/until.ts';

/**
 * `npm run dev` killed with SIGKILL leaves its emulator running (its own process group) with all
 * the local cloud's data in it. The next `npm run dev` must find it from the state file and take
 * it over, not start an empty one beside it; and a second `npm run dev` beside a live one refuses.
 */
const { stateFile, dev, ready, state } = useDevRuns('celerity-orphan-');

/** Ready, and past setting up the demo's periodic tasks (done after `ready in`), so a kill finds them all. */
async function demoSetUp(run: Parameters<typeof ready>[0]): Promise<void> {
  await ready(run);
  await until('the demo tasks to be sent', async () =>
    run.output().includes('demo tasks:') ? true : undefined,
  );
}

describe.skipIf(Boolean(process.env.AWS_ENDPOINT_URL))('npm run dev after a kill -9', () => {
  it('takes over the emulator the killed run left, with its data; refuses to run beside a live one', async () => {
    const first = dev();
    await demoSetUp(first);
    const before = state();
    const sqs = createAwsClients({ endpoint: before.endpoint, region: 'us-east-1' }).sqs;
    await sqs.send(new CreateQueueCommand({ QueueName: 'left-by-the-first-run' }));

    process.kill(before.pid, 'SIGKILL');
    await first.exited;
    expect(await motoAnswers(before.endpoint)).toBe(true);

    const second = dev();
    await ready(second);
    expect(second.output()).toContain(
      `the emulator of an earlier run (pid ${before.emulatorPid}, ${before.endpoint}) outlived it; carrying on with `,
    );
    // What it found, in figures: the demo's periodic tasks among them.
    expect(second.output()).toMatch(
      // A kill between a receive and its journal line leaves a message waiting out its timeout.
      /carrying on with \d+ queued tasks?.*, \d+ in flight, returned at once, (\d+ waiting out a visibility timeout, )?\d+ periodic tasks/,
    );
    const after = state();
    expect(after).toMatchObject({ endpoint: before.endpoint, emulatorPid: before.emulatorPid });
    expect(after.pid).not.toBe(before.pid);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'left-by-the-first-run' }));
    expect(QueueUrl).toContain('left-by-the-first-run');

    const third = dev();
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain(`a local cloud is already running (pid ${after.pid}`);
    expect(state().pid).toBe(after.pid);

    // Stopped as usual, the second run stops the emulator it took over.
    process.kill(after.pid, 'SIGINT');
    await second.exited;
    await until(
      'the adopted emulator to stop',
      async () => (isAlive(before.emulatorPid) ? undefined : true),
      15_000,
    );
    expect(existsSync(stateFile)).toBe(false);
  }, 240_000);
});

describe.skipIf(Boolean(process.env.AWS_ENDPOINT_URL))('npm run dev -- --fresh after a kill -9', () => {
  it('stops the emulator the killed run left, says what it discarded, and starts empty', async () => {
    const first = dev();
    await demoSetUp(first);
    const before = state();
    const sqs = createAwsClients({ endpoint: before.endpoint, region: 'us-east-1' }).sqs;
    await sqs.send(new CreateQueueCommand({ QueueName: 'discarded-by-fresh' }));
    process.kill(before.pid, 'SIGKILL');
    await first.exited;

    const fresh = dev({ args: ['--fresh'] });
    await ready(fresh);
    expect(fresh.output()).toMatch(
      new RegExp(
        `--fresh: stopped the emulator of an earlier run \\(pid ${before.emulatorPid}, [^)]+\\) and discarded \\d+ queued tasks?.*\\d+ periodic tasks`,
      ),
    );
    await until(
      'the discarded emulator to be gone',
      async () => (isAlive(before.emulatorPid) || groupAlive(before.emulatorPid) ? undefined : true),
      15_000,
    );
    const after = state();
    expect(after.emulatorPid).not.toBe(before.emulatorPid);
    const newSqs = createAwsClients({ endpoint: after.endpoint, region: 'us-east-1' }).sqs;
    await expect(newSqs.send(new GetQueueUrlCommand({ QueueName: 'discarded-by-fresh' }))).rejects.toThrow();

    process.kill(after.pid, 'SIGINT');
    await fresh.exited;
    await until('its emulator to stop', async () => (isAlive(after.emulatorPid) ? undefined : true), 15_000);
  }, 240_000);

  it('refuses an unknown argument, naming it and --fresh', async () => {
    const run = dev({ args: ['--frsh'] });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('unknown argument --frsh');
    expect(run.output()).toContain('--fresh');
  });
});

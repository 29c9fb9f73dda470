/**
 * `npm run dev`: the whole stack on this machine. Starts the local cloud from the CDK template,
 * writes `.celerity/local.json` for other tools (CLI, admin API), sends a few demo tasks and
 * prints each outcome as it lands, then serves until Ctrl-C.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPeriodicTaskStore } from '../../shared/app.ts';
import { PeriodicTaskExists } from '../../shared/beat/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { callToEnvelope, type TaskCall } from '../../shared/producer/index.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { BUILTIN_STATES } from '../../shared/task/states.ts';
import { InflightJournal } from '../event-sources/inflight-journal.ts';
import { printAdminServer, startAdminServer } from '../lambda/admin-server.ts';
import { type LocalCloud, startLocalCloud } from '../local-cloud.ts';
import { seedDemoData } from './demo-data.ts';
import { inflightJournalOf, localStateOf, STATE_FILE_ENV, writeState } from './state-file.ts';
import { takeOverEarlierRun } from './takeover.ts';

// CELERITY_STATE_FILE moves it (the CLI reads the same variable), e.g. for a second local cloud.
const STATE_FILE = process.env[STATE_FILE_ENV] || join(process.cwd(), '.celerity', 'local.json');
const STATE_DIR = dirname(STATE_FILE);
const LOG_DIR = join(STATE_DIR, 'logs');
/** Shows Beat at work within a minute of starting; remove it with `celerity beat remove`. */
const HEARTBEAT = 'Demo heartbeat';
const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
const BUILTIN = new Set<string>(BUILTIN_STATES);

/**
 * What the CLI and admin API need to find the running local cloud (the CLI reads it back), and
 * the emulator's pid, so that a later run can find it if this one is killed without stopping it.
 */
function writeLocalState(cloud: LocalCloud): void {
  writeState(STATE_FILE, {
    ...localStateOf(cloud),
    ...(cloud.emulator.pid ? { emulatorPid: cloud.emulator.pid } : {}),
  });
}

/** `npm run dev -- --fresh`: the one option. */
function parseArgs(argv: readonly string[]): { fresh: boolean } {
  const unknown = argv.filter((arg) => arg !== '--fresh');
  if (unknown.length > 0) {
    console.error(
      `celerity dev: unknown argument ${unknown.join(' ')}\n` +
        '  usage: npm run dev [-- --fresh]   (--fresh: discard the data of an emulator an earlier run left)',
    );
    process.exit(2);
  }
  return { fresh: argv.includes('--fresh') };
}

interface Tracked {
  label: string;
  taskId: string;
  sentAt: number;
  lastStatus?: string;
}

function firstLine(record: TaskResultRecord): string {
  const message = (record.traceback ?? '').split('\n')[0]?.replace(/^\w+: /, '') ?? '';
  return `${record.errorType}: ${message}`;
}

function line(t: Tracked, record: TaskResultRecord): string {
  const seconds = ((Date.now() - t.sentAt) / 1000).toFixed(1);
  const status = record.status.padEnd(7);
  const detail =
    record.status === 'SUCCESS'
      ? `= ${record.result}`
      : record.status === 'RETRY'
        ? `${firstLine(record)}; again at ${record.eta?.slice(11, 19) ?? '?'}`
        : record.errorType
          ? firstLine(record)
          : (record.result ?? '');
  return `  ${status} ${t.label.padEnd(34)} ${detail}  [${seconds}s, ${t.taskId.slice(0, 8)}]`;
}

async function sendDemos(cloud: LocalCloud): Promise<Tracked[]> {
  const tracked: Tracked[] = [];
  const send = async (label: string, call: TaskCall) => {
    try {
      const sent = await cloud.producer.send(call);
      tracked.push({ label, taskId: sent.taskId, sentAt: Date.now() });
    } catch (error) {
      console.log(`  REFUSED ${label.padEnd(34)} ${(error as Error).message}`);
    }
  };
  await send('add(2, 3)', { task: 'apps.demo.tasks.add', args: [2, 3] });
  await send('flaky("demo")', { task: 'apps.demo.tasks.flaky', args: ['demo'] });
  await send('slow(3) over its 2 s soft limit', { task: 'apps.demo.tasks.slow', args: [3] });
  await send('no_such_task()', { task: 'apps.demo.tasks.no_such_task' });
  await send('add("two", 3) via the producer', { task: 'apps.demo.tasks.add', args: ['two', 3] });
  // Another language's producer (boto3 from Django) checks nothing: the worker must refuse it.
  const raw = encodeEnvelope(callToEnvelope({ task: 'apps.demo.tasks.add', args: ['two', 3] }, Date.now()));
  const queue = cloud.config.queues[cloud.config.defaultQueue];
  if (queue) {
    await cloud.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: raw.body }));
    tracked.push({ label: 'add("two", 3) sent raw', taskId: raw.envelope.id, sentAt: Date.now() });
  }
  await send('progress(3), a step a second', { task: 'apps.demo.tasks.progress', args: [3] });
  await send('add(40, 2) with countdown 5 s', { task: 'apps.demo.tasks.add', args: [40, 2], countdown: 5 });
  return tracked;
}

/** Prints each task's state when it changes, until every one is ready or we are told to stop. */
async function follow(cloud: LocalCloud, tracked: Tracked[], stopped: () => boolean): Promise<void> {
  while (!stopped() && tracked.some((t) => !READY.has(t.lastStatus ?? ''))) {
    for (const t of tracked) {
      if (READY.has(t.lastStatus ?? '')) continue;
      const record = await cloud.store.get(t.taskId).catch(() => undefined);
      // A retry's eta tells its RETRY records apart (a claim of the next attempt leaves it as it
      // was); a custom state's meta tells its updates apart (PROGRESS, step by step).
      const key = record
        ? `${record.status}/${record.status === 'RETRY' ? record.eta : BUILTIN.has(record.status) ? '' : record.result}`
        : undefined;
      if (record && key !== t.lastStatus) {
        console.log(line(t, record));
        t.lastStatus = READY.has(record.status) ? record.status : key;
      }
    }
    await sleep(250);
  }
}

/** LabControl's demo data and default periodic tasks (the seed's `setup_periodic_tasks`). */
async function setUpLabControl(cloud: LocalCloud): Promise<void> {
  const seeded = await seedDemoData(cloud.clients, cloud.resources);
  console.log(
    `  demo data  ${seeded.userIds.length} users, ${seeded.dueReminders} appointments due a reminder, ${seeded.oldReadNotifications} old read notifications`,
  );
  const beat = createPeriodicTaskStore({ config: cloud.config, clients: cloud.clients });
  const defaults = await beat.setupDefaults();
  try {
    await beat.add({
      name: HEARTBEAT,
      task: 'apps.demo.tasks.add',
      args: [1, 1],
      interval: { every: 30, period: 'seconds' },
      description: 'Shows Beat firing in the local cloud; npx celerity beat remove "Demo heartbeat"',
    });
  } catch (error) {
    if (!(error instanceof PeriodicTaskExists)) throw error;
  }
  console.log(
    `  beat       ${[...defaults.created, ...defaults.existing].join(', ')}, ${HEARTBEAT} (every 30 s)  (npx celerity beat list)`,
  );
}

async function main(): Promise<void> {
  const { fresh } = parseArgs(process.argv.slice(2));
  process.env.LOG_LEVEL ??= 'warn';
  const started = Date.now();
  console.log('celerity dev: starting the emulator and provisioning the stack template ...');
  const { emulator } = await takeOverEarlierRun(STATE_FILE, fresh);
  // Written from the first receive on: if this run is killed, the next returns what it held at once.
  mkdirSync(STATE_DIR, { recursive: true });
  const inflight = new InflightJournal(inflightJournalOf(STATE_FILE));
  const cloud = await startLocalCloud({
    ...(emulator ? { emulator } : {}),
    inflight,
    logLevel: process.env.LOG_LEVEL,
    logDir: LOG_DIR,
    onFire: (fire) => {
      const due = fire.scheduledTime.toISOString().slice(11, 19);
      console.log(
        `  beat    ${fire.name.padEnd(34)} due ${due}, sent ${fire.delayMs} ms later (${fire.outcome})`,
      );
    },
  });
  running = { cloud, inflight };
  const admin = await startAdminServer({
    resources: cloud.resources,
    clients: cloud.clients,
    stateDir: STATE_DIR,
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping workers (running batches finish), then the emulator ...`);
    try {
      await admin?.close();
      await cloud.stop();
      // Every poller has deleted or released what it held.
      inflight.close();
    } finally {
      rmSync(STATE_FILE, { force: true });
    }
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  writeLocalState(cloud);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  emulator   ${cloud.endpoint} (${cloud.emulator.kind}), region ${cloud.region}`);
  for (const worker of cloud.workers) {
    const { mapping, queue } = worker;
    console.log(
      `  worker     ${(queue.route ?? queue.logicalId).padEnd(14)} batch ${mapping.batchSize}, window ${mapping.maximumBatchingWindowSeconds} s, concurrency ≤ ${mapping.maximumConcurrency ?? 5}`,
    );
  }
  for (const skipped of cloud.notRun) console.log(`  not run    ${skipped.mapping}: ${skipped.reason}`);
  console.log(`  state      ${STATE_FILE}`);
  if (admin) printAdminServer(admin);
  console.log(`  logs       ${LOG_DIR}/worker.log, beat.log  (npx celerity logs worker --follow)`);
  await setUpLabControl(cloud);
  console.log('\ndemo tasks:');
  const tracked = await sendDemos(cloud);
  await follow(cloud, tracked, () => stopping);
  if (!stopping) console.log('\nall demo tasks are done; serving until Ctrl-C.');
}

/** The local cloud once started: a failure after that stops it, emulator and all, not leaving it unseen. */
let running: { cloud: LocalCloud; inflight: InflightJournal } | undefined;

main().catch(async (error: unknown) => {
  console.error('celerity dev failed:', error);
  try {
    await running?.cloud.stop();
    running?.inflight.close();
  } finally {
    rmSync(STATE_FILE, { force: true });
    process.exit(1);
  }
});

/**
 * The layers of docs/DESIGN ("Layers"), checked by `npm run lint` (see docs/decisions.md, "Layers
 * that hold"). From the bottom:
 *
 *   base      shared/errors.ts, shared/cursor.ts, shared/time/, shared/aws/, shared/config/, shared/log.ts,
 *             shared/schema.ts, shared/batches.ts
 *   envelope  shared/envelope/
 *   task      shared/task/ (its definitions: registry, options, context, states, errors)
 *   producer  shared/producer/     beat  shared/beat/ (beside producer and results)
 *   results   shared/results/
 *   canvas    shared/canvas/ (chains, groups, chords: what a ready task sends and counts; the
 *             user-facing builders that need the app's producer, canvas/api*.ts and index.ts, are app)
 *   celery    shared/celery/ (beside canvas: Celery's wire and result formats, which the worker reads
 *             and writes for Celery producers and clients; it stands on the envelope and the results)
 *   worker    shared/worker/
 *   middleware shared/middleware/ (the entries' middy middlewares: log context, metrics flush,
 *             invocation deadline; they read the worker's metrics, and nothing below uses them)
 *   app       shared/app.ts (with app-producer.ts, app-worker.ts, app-beat.ts: the wiring, split
 *             by who needs it), shared/index.ts, and the Celery-facing task
 *             API shared/task/define.ts + shared/task/index.ts (Celery's `app.task`: a task that
 *             sends itself needs the producer and the result store, as Celery's binds to its app)
 *   ops       shared/ops/
 *   admin     shared/admin/ (the admin API: routes over ops, auth, the router)
 *   functions/ → infra/ → localstack/, cli/ (and bench/) on top
 *
 * A module may import its own layer and any layer below, never one above. Only runtime imports
 * count (type-only imports are erased), as they are what a bundle and a cold start carry.
 */

const BASE = '^shared/(errors\\.ts|cursor\\.ts|log\\.ts|schema\\.ts|batches\\.ts|time/|aws/|config/)';
const ENVELOPE = '^shared/envelope/';
const TASK_API = '^shared/task/(define|index)\\.ts$';
const PRODUCER = '^shared/producer/';
const BEAT = '^shared/beat/';
const RESULTS = '^shared/results/';
const CANVAS_API = '^shared/canvas/(api[a-z-]*|index)\\.ts$';
const CELERY = '^shared/celery/';
const WORKER = '^shared/worker/';
const MIDDLEWARE = '^shared/middleware/';
const APP = `^shared/(app(-producer|-worker|-beat)?\\.ts|index\\.ts)$|${TASK_API}|${CANVAS_API}`;
const OPS = '^shared/ops/';
const ADMIN = '^shared/admin/';

/** One rule per layer: `from` (the layer) must not reach `to` (everything above it). */
function layer(name, from, above, comment) {
  return {
    name: `layer-${name}`,
    comment,
    severity: 'error',
    from: { path: from },
    to: { path: above },
  };
}

const ABOVE_SHARED = '^(functions|infra|localstack|cli|bench)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file cycle anywhere: each layer and each folder is built from the ones below it.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer(
      'base',
      BASE,
      `^shared/(?!(errors\\.ts|log\\.ts|schema\\.ts|batches\\.ts|time/|aws/|config/))|${ABOVE_SHARED}`,
      'Errors, time, AWS clients, configuration, logging, the schema library and batching helpers know nothing of tasks.',
    ),
    layer(
      'envelope',
      ENVELOPE,
      `^shared/(task|producer|beat|results|canvas|celery|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      'The envelope is the wire format: it knows no task, producer or worker.',
    ),
    {
      name: 'layer-task',
      comment: 'Task definitions (registry, options, states) sit below whatever sends, stores or runs them.',
      severity: 'error',
      from: { path: '^shared/task/', pathNot: TASK_API },
      to: {
        path: `^shared/(producer|beat|results|canvas|celery|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      },
    },
    layer(
      'producer',
      PRODUCER,
      `^shared/(beat|results|canvas|celery|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      'The producer sends; it never reaches the result store, Beat or the worker.',
    ),
    layer(
      'beat',
      BEAT,
      `^shared/(producer|results|canvas|celery|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      'Beat stands beside the producer and the results: it uses neither, and nothing runs it but the worker and the app.',
    ),
    layer(
      'results',
      RESULTS,
      `^shared/(beat|canvas|celery|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      'The result store knows task states, not the worker that settles them.',
    ),
    {
      name: 'layer-canvas',
      comment:
        'Chains, groups and chords stand on the producer and the results; the worker runs their follow-ups.',
      severity: 'error',
      from: { path: '^shared/canvas/', pathNot: CANVAS_API },
      to: { path: `^shared/(beat|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}` },
    },
    layer(
      'celery',
      CELERY,
      `^shared/(beat|canvas|worker|middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      "Celery's wire and result formats are read and written by the worker; they know no worker.",
    ),
    layer(
      'worker',
      WORKER,
      `^shared/(middleware|ops|admin)/|${APP}|${ABOVE_SHARED}`,
      'The worker runtime is wired by the app, not the other way; it takes a signal, not a middleware.',
    ),
    layer(
      'middleware',
      MIDDLEWARE,
      `${OPS}|${ADMIN}|${APP}|${ABOVE_SHARED}`,
      'The middlewares wrap what the entries call; they stand on the worker and never on the app.',
    ),
    layer(
      'app',
      APP,
      `${OPS}|${ADMIN}|${ABOVE_SHARED}`,
      'The app wires shared/ together; the CLI and the admin API stand on it.',
    ),
    layer(
      'ops',
      OPS,
      `${ADMIN}|${ABOVE_SHARED}`,
      'What the CLI and the admin API call: shared/ never imports functions/, infra/, cli/ or localstack/.',
    ),
    layer(
      'admin',
      ADMIN,
      ABOVE_SHARED,
      'The admin API stands on ops (one implementation, two doors); only functions/ and the local cloud serve it.',
    ),
    {
      name: 'layer-functions',
      comment:
        'Lambda entries and the app tasks stand on shared/; the stack and the local tools stand on them.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(infra|localstack|cli|bench)/' },
    },
    {
      name: 'layer-infra',
      comment: 'The CDK app describes functions/ and shared/; the local tools read its template.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^(localstack|cli|bench)/' },
    },
    {
      name: 'localstack-not-cli',
      comment: 'The local cloud and the CLI stand side by side and meet only through a module meant for it.',
      severity: 'error',
      from: { path: '^localstack/' },
      to: { path: '^(cli|bench)/' },
    },
    {
      name: 'cli-not-localstack',
      comment: 'The CLI reaches the local cloud only through the local state file module.',
      severity: 'error',
      from: { path: '^cli/' },
      // The state file is written by the local cloud and read by the CLI: its module is the door.
      to: { path: '^(localstack|bench)/', pathNot: '^localstack/dev/state-file\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Runtime imports only, as bundles and cold starts see them (type-only imports are erased).
    tsPreCompilationDeps: false,
    moduleSystems: ['es6', 'cjs'],
  },
};

/**
 * Bad periodic task definitions, each with the field its refusal must name and words the message
 * must hold. Judged at \`BAD_DEFINITIONS_NOW\`, with \`KNOWN_TASKS\` registered and Europe/London as
 * the default zone; shared by the model's unit test and the store's integration test.
 */
export const BAD_DEFINITIONS_NOW = new Date('2026-03-01T12:00:00Z');
export const KNOWN_TASKS = new Set(['apps.appointments.tasks.send_appointment_reminders', 'apps.x.tasks.y']);

export const base = {
  name: 'Send Appointment Reminders',
  task: 'apps.appointments.tasks.send_appointment_reminders',
};
export const cron = (fields: Record<string, unknown>) => ({
  ...base,
  crontab: { minute: '0', hour: '9', ...fields },
});

/** [what, input, field named, text the message holds] — 40+ kinds of bad definitions. */
export const BAD_DEFINITIONS: [string, unknown, string, string][] = [
  ['hour 24', cron({ hour: '24' }), 'crontab.hour', '24 is out of range 0-23'],
  ['minute 60', cron({ minute: '60' }), 'crontab.minute', '60 is out of range 0-59'],
  ['day of month 0', cron({ dayOfMonth: '0' }), 'crontab.dayOfMonth', '0 is out of range 1-31'],
  ['day of month 32', cron({ dayOfMonth: '32' }), 'crontab.dayOfMonth', '32 is out of range 1-31'],
  ['month 13', cron({ monthOfYear: '13' }), 'crontab.monthOfYear', '13 is out of range 1-12'],
  ['month 0', cron({ monthOfYear: '0' }), 'crontab.monthOfYear', '0 is out of range 1-12'],
  ['day of week 7', cron({ dayOfWeek: '7' }), 'crontab.dayOfWeek', 'Sunday is 0'],
  ['month name', cron({ monthOfYear: 'jan' }), 'crontab.monthOfYear', 'month names are not part of'],
  ['day name in hour', cron({ hour: 'mon' }), 'crontab.hour', 'day names are only allowed in dayOfWeek'],
  ['unknown day name', cron({ dayOfWeek: 'funday' }), 'crontab.dayOfWeek', 'not a number or a day name'],
  ['word for a day', cron({ dayOfWeek: 'monkey' }), 'crontab.dayOfWeek', 'not a number or a day name'],
  ['empty field', cron({ minute: '' }), 'crontab.minute', 'must not be empty'],
  ['empty part', cron({ minute: '1,,2' }), 'crontab.minute', 'empty part'],
  ['step without range', cron({ minute: '5/15' }), 'crontab.minute', 'a step needs * or a range'],
  ['zero step', cron({ minute: '*/0' }), 'crontab.minute', 'at least 1'],
  ['empty step', cron({ hour: '*/' }), 'crontab.hour', 'at least 1'],
  ['word step', cron({ hour: '1-5/x' }), 'crontab.hour', 'at least 1'],
  ['negative number', cron({ minute: '-5' }), 'crontab.minute', 'negative numbers'],
  ['range with a tail', cron({ hour: '1-5-7' }), 'crontab.hour', 'is not *, a number, a range or a step'],
  ['double step', cron({ minute: '*/5/2' }), 'crontab.minute', 'at least 1'],
  ['cron L', cron({ dayOfMonth: 'L' }), 'crontab.dayOfMonth', 'not a number'],
  ['question mark', cron({ dayOfWeek: '?' }), 'crontab.dayOfWeek', 'is not *, a number'],
  ['python int spelling', cron({ minute: '+5' }), 'crontab.minute', 'is not *, a number'],
  ['crontab field of wrong type', cron({ minute: [0, 30] }), 'crontab.minute', 'must be a crontab field'],
  ['never runs', cron({ dayOfMonth: '30', monthOfYear: '2' }), 'crontab', 'never runs'],
  ['unknown time zone', cron({ timezone: 'Mars/Olympus' }), 'crontab.timezone', 'is not an IANA time zone'],
  ['offset for a zone', cron({ timezone: '+05:30' }), 'crontab.timezone', 'is not an IANA time zone'],
  [
    'lower-case zone',
    cron({ timezone: 'america/new_york' }),
    'crontab.timezone',
    'did you mean "America/New_York"',
  ],
  ['unknown crontab key', cron({ day_of_week: 'mon' }), 'crontab.day_of_week', 'is not a field'],
  ['zero interval', { ...base, interval: { every: 0, period: 'minutes' } }, 'interval.every', 'at least 1'],
  [
    'negative interval',
    { ...base, interval: { every: -5, period: 'hours' } },
    'interval.every',
    'at least 1',
  ],
  [
    'fractional interval',
    { ...base, interval: { every: 1.5, period: 'hours' } },
    'interval.every',
    'whole number',
  ],
  [
    'unknown period',
    { ...base, interval: { every: 1, period: 'weeks' } },
    'interval.period',
    'must be one of',
  ],
  [
    '61 seconds',
    { ...base, interval: { every: 61, period: 'seconds' } },
    'interval.every',
    'cannot run exactly',
  ],
  [
    'half a second',
    { ...base, interval: { every: 500_000, period: 'microseconds' } },
    'interval.every',
    'whole number of seconds',
  ],
  [
    'latitude 91',
    { ...base, solar: { event: 'sunrise', latitude: 91, longitude: 0 } },
    'solar.latitude',
    'between -90 and 90',
  ],
  [
    'latitude -91',
    { ...base, solar: { event: 'sunset', latitude: -91, longitude: 0 } },
    'solar.latitude',
    'between -90 and 90',
  ],
  [
    'longitude 181',
    { ...base, solar: { event: 'sunrise', latitude: 0, longitude: 181 } },
    'solar.longitude',
    'between -180 and 180',
  ],
  [
    'unknown solar event',
    { ...base, solar: { event: 'moonrise', latitude: 0, longitude: 0 } },
    'solar.event',
    'must be one of',
  ],
  [
    'latitude as text',
    { ...base, solar: { event: 'sunrise', latitude: '51.5', longitude: 0 } },
    'solar.latitude',
    'number',
  ],
  [
    'clocked in the past',
    { ...base, clocked: { clockedTime: '2026-02-01T00:00:00Z' } },
    'clocked.clockedTime',
    'is not in the future',
  ],
  [
    'clocked without zone',
    { ...base, clocked: { clockedTime: '2026-05-01T00:00:00' } },
    'clocked.clockedTime',
    'with a zone',
  ],
  [
    'clocked not one-off',
    { ...base, oneOff: false, clocked: { clockedTime: '2026-05-01T00:00:00Z' } },
    'oneOff',
    'must be true',
  ],
  [
    'unknown task',
    { ...cron({}), task: 'apps.x.tasks.missing' },
    'task',
    'apps.x.tasks.missing is not a registered task',
  ],
  ['task not dotted', { ...cron({}), task: 'send email' }, 'task', 'dotted task name'],
  [
    'two schedules',
    { ...cron({}), interval: { every: 1, period: 'days' } },
    'schedule',
    'got crontab and interval',
  ],
  ['no schedule', { ...base }, 'schedule', 'got none'],
  ['empty name', { ...cron({}), name: '' }, 'name', 'must not be empty'],
  ['blank name', { ...cron({}), name: '   ' }, 'name', 'must not be blank'],
  ['long name', { ...cron({}), name: 'x'.repeat(201) }, 'name', 'at most 200'],
  ['name with a newline', { ...cron({}), name: 'a\nb' }, 'name', 'control characters'],
  ['priority 256', { ...cron({}), priority: 256 }, 'priority', 'between 0 and 255'],
  ['priority -1', { ...cron({}), priority: -1 }, 'priority', 'between 0 and 255'],
  [
    'expires before start',
    { ...cron({}), startTime: '2026-05-01T00:00:00Z', expires: '2026-04-01T00:00:00Z' },
    'expires',
    'is not after startTime',
  ],
  ['expires not a date', { ...cron({}), expires: 'tomorrow' }, 'expires', 'ISO 8601'],
  ['expireSeconds 0', { ...cron({}), expireSeconds: 0 }, 'expireSeconds', 'at least 1'],
  ['args not a list', { ...cron({}), args: '[1]' }, 'args', 'JSON array'],
  ['kwargs not an object', { ...cron({}), kwargs: [1] }, 'kwargs', 'JSON object'],
  ['bad queue name', { ...cron({}), queue: 'my queue' }, 'queue', 'letters, digits'],
  ['negative run count', { ...cron({}), totalRunCount: -1 }, 'totalRunCount', 'must not be negative'],
  ['enabled as text', { ...cron({}), enabled: 'yes' }, 'enabled', 'true or false'],
  ['snake_case field', { ...cron({}), one_off: true }, 'one_off', 'is not a field'],
  ['not an object', 'every day', 'definition', 'JSON object'],
];

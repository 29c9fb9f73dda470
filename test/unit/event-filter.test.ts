import { describe, expect, it } from 'vitest';
import {
  compileFilterCriteria,
  compilePattern,
  type FilterCriteria,
  FilterPatternError,
} from '../../localstack/event-sources/event-filter.ts';
import { streamFilterPatterns } from '../../shared/beat/sync-plan.ts';

type Image = Record<string, Record<string, unknown>>;

/** A stream record as Lambda hands it to the function (and to the filter). */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { NewImage?: Image; OldImage?: Image }) {
  return {
    eventID: 'e1',
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1_767_225_600,
      Keys: { name: { S: 'job' } },
      ...images,
      SequenceNumber: '100',
      SizeBytes: 42,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const item = (extra: Image = {}): Image => ({ name: { S: 'job' }, task: { S: 'apps.x.y' }, ...extra });
const matcher = (pattern: unknown) => compilePattern(pattern);

describe('the beat sync filter (streamFilterPatterns)', () => {
  const filter = compileFilterCriteria(streamFilterPatterns());

  it('passes every INSERT and REMOVE, marked or not', () => {
    expect(filter.matches(record('INSERT', { NewImage: item() }))).toBe(true);
    expect(filter.matches(record('INSERT', { NewImage: item({ lastWrite: { S: 'run' } }) }))).toBe(true);
    expect(filter.matches(record('REMOVE', { OldImage: item({ lastWrite: { S: 'run' } }) }))).toBe(true);
  });

  it('drops a MODIFY whose new image says the run statistics wrote it', () => {
    const modify = record('MODIFY', {
      OldImage: item({ lastWrite: { S: 'definition' } }),
      NewImage: item({ lastWrite: { S: 'run' }, totalRunCount: { N: '3' } }),
    });
    expect(filter.matches(modify)).toBe(false);
  });

  it('passes a MODIFY by any other writer, and one without the marker at all', () => {
    expect(
      filter.matches(
        record('MODIFY', {
          OldImage: item({ lastWrite: { S: 'run' } }),
          NewImage: item({ lastWrite: { S: 'definition' } }),
        }),
      ),
    ).toBe(true);
    expect(filter.matches(record('MODIFY', { OldImage: item(), NewImage: item() }))).toBe(true);
  });

  it('judges the new image only: an old image marked run does not drop a definition write', () => {
    const modify = record('MODIFY', { OldImage: item({ lastWrite: { S: 'run' } }), NewImage: item() });
    expect(filter.matches(modify)).toBe(true);
  });

  it('drops records of any other event name', () => {
    expect(filter.matches({ ...record('INSERT', { NewImage: item() }), eventName: 'OTHER' })).toBe(false);
  });
});

describe('compilePattern', () => {
  const insert = record('INSERT', { NewImage: item({ n: { N: '5' }, tags: { SS: ['a', 'b'] } }) });

  it('matches exact values, ANDs fields and ORs the values of one field', () => {
    expect(matcher({ eventName: ['INSERT'], eventSource: ['aws:dynamodb'] })(insert)).toBe(true);
    expect(matcher({ eventName: ['MODIFY', 'INSERT'] })(insert)).toBe(true);
    expect(matcher({ eventName: ['INSERT'], eventSource: ['aws:sqs'] })(insert)).toBe(false);
    // Types matter: the string "42" is not the number 42.
    expect(matcher({ dynamodb: { SizeBytes: [42] } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { SizeBytes: ['42'] } })(insert)).toBe(false);
  });

  it('walks nested objects in attribute-value form', () => {
    expect(matcher({ dynamodb: { NewImage: { task: { S: ['apps.x.y'] } } } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { NewImage: { task: { S: ['other'] } } } })(insert)).toBe(false);
    expect(matcher({ dynamodb: { Keys: { name: { S: ['job'] } } } })(insert)).toBe(true);
  });

  it('anything-but needs the field present and not among the values', () => {
    const rule = { dynamodb: { NewImage: { task: { S: [{ 'anything-but': ['a', 'b'] }] } } } };
    expect(matcher(rule)(insert)).toBe(true);
    expect(
      matcher({ dynamodb: { NewImage: { task: { S: [{ 'anything-but': 'apps.x.y' }] } } } })(insert),
    ).toBe(false);
    expect(matcher({ dynamodb: { NewImage: { missing: { S: [{ 'anything-but': ['x'] }] } } } })(insert)).toBe(
      false,
    );
    expect(
      matcher({ dynamodb: { NewImage: { task: { S: [{ 'anything-but': { prefix: 'apps.' } }] } } } })(insert),
    ).toBe(false);
  });

  it('exists:false matches an absent field, also under an absent parent; exists:true the opposite', () => {
    const absent = { dynamodb: { NewImage: { lastWrite: { S: [{ exists: false }] } } } };
    const present = { dynamodb: { NewImage: { task: { S: [{ exists: true }] } } } };
    expect(matcher(absent)(insert)).toBe(true);
    expect(matcher(absent)(record('REMOVE', { OldImage: item() }))).toBe(true);
    expect(matcher(absent)(record('INSERT', { NewImage: item({ lastWrite: { S: 'x' } }) }))).toBe(false);
    expect(matcher(present)(insert)).toBe(true);
    expect(matcher(present)(record('REMOVE', { OldImage: item() }))).toBe(false);
  });

  it('exists tests leaves only, as on AWS: an attribute object is not a leaf', () => {
    expect(matcher({ dynamodb: { NewImage: { task: [{ exists: true }] } } })(insert)).toBe(false);
    expect(matcher({ dynamodb: { NewImage: { task: [{ exists: false }] } } })(insert)).toBe(true);
  });

  it('prefix, suffix and equals-ignore-case compare strings', () => {
    expect(matcher({ dynamodb: { NewImage: { task: { S: [{ prefix: 'apps.' }] } } } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { NewImage: { task: { S: [{ prefix: 'lib.' }] } } } })(insert)).toBe(false);
    expect(matcher({ dynamodb: { NewImage: { task: { S: [{ suffix: '.y' }] } } } })(insert)).toBe(true);
    expect(matcher({ eventName: [{ 'equals-ignore-case': 'insert' }] })(insert)).toBe(true);
  });

  it('numeric compares numbers, and never the strings of DynamoDB N values', () => {
    expect(matcher({ dynamodb: { SizeBytes: [{ numeric: ['>', 10, '<=', 42] }] } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { SizeBytes: [{ numeric: ['<', 42] }] } })(insert)).toBe(false);
    expect(matcher({ dynamodb: { SizeBytes: [{ numeric: ['=', 42] }] } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { NewImage: { n: { N: [{ numeric: ['=', 5] }] } } } })(insert)).toBe(false);
    expect(matcher({ dynamodb: { NewImage: { n: { N: ['5'] } } } })(insert)).toBe(true);
  });

  it('matches a value inside a list (a string set) if any element does', () => {
    expect(matcher({ dynamodb: { NewImage: { tags: { SS: ['b'] } } } })(insert)).toBe(true);
    expect(matcher({ dynamodb: { NewImage: { tags: { SS: ['c'] } } } })(insert)).toBe(false);
  });

  it('$or ORs whole sub-patterns', () => {
    const pattern = { $or: [{ eventName: ['MODIFY'] }, { dynamodb: { SizeBytes: [42] } }] };
    expect(matcher(pattern)(insert)).toBe(true);
    expect(matcher({ $or: [{ eventName: ['MODIFY'] }, { eventName: ['REMOVE'] }] })(insert)).toBe(false);
  });

  it('null matches a JSON null that is present', () => {
    expect(matcher({ userIdentity: [null] })({ ...insert, userIdentity: null })).toBe(true);
    expect(matcher({ userIdentity: [null] })(insert)).toBe(false);
  });
});

describe('compileFilterCriteria', () => {
  const insert = record('INSERT', { NewImage: item() });
  const criteria = (...patterns: unknown[]): FilterCriteria => ({
    Filters: patterns.map((p) => ({ Pattern: typeof p === 'string' ? p : JSON.stringify(p) })),
  });

  it('passes everything without filters, and ORs several', () => {
    expect(compileFilterCriteria(undefined).matches(insert)).toBe(true);
    expect(compileFilterCriteria({ Filters: [] }).matches(insert)).toBe(true);
    const two = compileFilterCriteria(criteria({ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }));
    expect(two.patterns).toBe(2);
    expect(two.matches(insert)).toBe(true);
    expect(compileFilterCriteria(criteria({ eventName: ['REMOVE'] })).matches(insert)).toBe(false);
  });

  it.each([
    ['an unsupported operator', { eventName: [{ wildcard: 'IN*' }] }, /wildcard.*not supported/],
    ['cidr', { dynamodb: { NewImage: { ip: { S: [{ cidr: '10.0.0.0/24' }] } } } }, /cidr/],
    ['a scalar where a list belongs', { eventName: 'INSERT' }, /must be a list/],
    ['an empty list', { eventName: [] }, /may not be empty/],
    ['two operators in one rule', { eventName: [{ prefix: 'I', suffix: 'T' }] }, /exactly one operator/],
    ['a bad numeric', { dynamodb: { SizeBytes: [{ numeric: ['~', 1] }] } }, /numeric/],
    ['exists with a non-boolean', { eventName: [{ exists: 'yes' }] }, /exists takes/],
    ['a field the record lacks', { eventname: ['INSERT'] }, /no field "eventname"/],
    ['an empty pattern', {}, /empty pattern/],
    ['text that is not JSON', '{nope', /not JSON/],
  ])('refuses %s, naming where', (_label, pattern, message) => {
    expect(() => compileFilterCriteria(criteria(pattern))).toThrow(FilterPatternError);
    expect(() => compileFilterCriteria(criteria(pattern))).toThrow(message);
    expect(() => compileFilterCriteria(criteria(pattern))).toThrow(/FilterCriteria\.Filters\[0\]\.Pattern/);
  });

  it('allows any top-level field when asked', () => {
    const filter = compileFilterCriteria(criteria({ body: [{ prefix: '{' }] }), null);
    expect(filter.matches({ body: '{"a":1}' })).toBe(true);
  });
});

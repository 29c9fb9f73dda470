import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ExpiredIteratorException } from '@aws-sdk/client-dynamodb-streams';
import { ConflictException } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { isAwsError } from '../../shared/aws/errors.ts';

const meta = { $metadata: { httpStatusCode: 400 } };

describe('isAwsError: the one way Celerity recognises an AWS service error', () => {
  it('recognises the SDK exception classes by their name', () => {
    expect(
      isAwsError(
        new ConditionalCheckFailedException({ message: 'no', ...meta }),
        'ConditionalCheckFailedException',
      ),
    ).toBe(true);
    expect(
      isAwsError(new ConflictException({ message: 'taken', Message: 'taken', ...meta }), 'ConflictException'),
    ).toBe(true);
    expect(
      isAwsError(new ExpiredIteratorException({ message: 'old', ...meta }), 'ExpiredIteratorException'),
    ).toBe(true);
  });

  it('narrows to the named shape, so a cancelled transaction yields its reasons', () => {
    const error: unknown = new TransactionCanceledException({
      message: 'cancelled',
      ...meta,
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
    });
    if (!isAwsError(error, 'TransactionCanceledException')) throw new Error('not recognised');
    expect(error.CancellationReasons?.[0]?.Code).toBe('ConditionalCheckFailed');
  });

  it('recognises a plain object or Error with the name: a second copy of the SDK, or a proxy', () => {
    // instanceof fails across two copies of a client package; the name does not.
    expect(
      isAwsError({ name: 'ResourceNotFoundException', $metadata: {} }, 'ResourceNotFoundException'),
    ).toBe(true);
    const plain = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    expect(isAwsError(plain, 'AccessDeniedException')).toBe(true);
  });

  it('takes several names and matches any of them', () => {
    const denied = { name: 'AccessDenied' };
    expect(isAwsError(denied, 'AccessDeniedException', 'AccessDenied')).toBe(true);
    expect(isAwsError(denied, 'AccessDeniedException', 'ValidationException')).toBe(false);
  });

  it('is false for another name, a look-alike, and anything without a name', () => {
    const other = new ConditionalCheckFailedException({ message: 'no', ...meta });
    expect(isAwsError(other, 'ConflictException')).toBe(false);
    expect(isAwsError({ name: 'conflictexception' }, 'ConflictException')).toBe(false);
    expect(isAwsError(new Error('ConflictException'), 'ConflictException')).toBe(false);
    for (const value of [undefined, null, 0, '', 'ConflictException', {}, { name: 42 }]) {
      expect(isAwsError(value, 'ConflictException')).toBe(false);
    }
  });
});

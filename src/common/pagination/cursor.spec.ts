import { decodeCursor, encodeCursor } from './cursor';

describe('keyset cursor', () => {
  it('comes back as it was given, to the microsecond', () => {
    const cursor = { createdAtMicros: '1795672039453123', id: '0a4b6a3e-9a5e-4f0e-8d0f-1c2b3a4d5e6f' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    '',
    'abc',
    Buffer.from('12_not-a-uuid').toString('base64url'),
    Buffer.from("1_0a4b6a3e-9a5e-4f0e-8d0f-1c2b3a4d5e6f' OR 1=1").toString('base64url'),
  ])('refuses %j with a 400 naming the cursor', (value) => {
    expect(() => decodeCursor(value)).toThrow(
      expect.objectContaining({
        errorName: 'VALIDATION_ERROR',
        details: [expect.objectContaining({ field: 'cursor', location: 'query' })],
      }),
    );
  });
});

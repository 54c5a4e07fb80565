import { randomBytes } from 'node:crypto';
import { newSecret, openSecret, sealSecret, sign } from './webhook-signature';

describe('Standard Webhooks signature', () => {
  it('matches the example of the Standard Webhooks reference libraries', () => {
    // From standard-webhooks' own tests (libraries/javascript/src/index.test.ts).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = 1614265330;
    const body = '{"test": 2432232314}';
    expect(sign(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('makes secrets of 24 random bytes behind whsec_', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(newSecret()).not.toBe(secret);
  });

  it('keeps secrets encrypted at rest when a key is given, and opens them again', () => {
    const key = randomBytes(32);
    const secret = newSecret();
    const sealed = sealSecret(secret, key);
    expect(sealed).toMatch(/^aes256gcm:/);
    expect(sealed).not.toContain(secret.slice(6));
    expect(openSecret(sealed, key)).toBe(secret);
    expect(() => openSecret(sealed, randomBytes(32))).toThrow();
    expect(() => openSecret(sealed, undefined)).toThrow('WEBHOOK_SECRET_KEY');
    expect(sealSecret(secret, undefined)).toBe(secret);
    expect(openSecret(secret, key)).toBe(secret);
  });
});

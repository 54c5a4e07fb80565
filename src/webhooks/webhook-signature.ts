import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks (https://www.standardwebhooks.com): secrets, signatures and the headers of a call. */

const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + 24 random bytes in base64, as the spec writes them. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's base64-decoded bytes. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The headers of one call; `timestamp` in whole seconds. */
export function signedHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, id, timestamp, body),
  };
}

/** The `webhook-id` of an event: the same for every endpoint and every attempt. */
export const webhookId = (eventId: string): string => `msg_${eventId}`;

const ENCRYPTED = 'aes256gcm:';

/**
 * Secrets are kept so that they can sign (a hash would not do): encrypted with AES-256-GCM when
 * WEBHOOK_SECRET_KEY is given (`aes256gcm:` + base64 of iv, tag and ciphertext), else as they are.
 */
export function sealSecret(secret: string, key: Buffer | undefined): string {
  if (!key) return secret;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ENCRYPTED + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
}

export function openSecret(stored: string, key: Buffer | undefined): string {
  if (!stored.startsWith(ENCRYPTED)) return stored;
  if (!key) throw new Error('This webhook secret is encrypted but WEBHOOK_SECRET_KEY is not set');
  const raw = Buffer.from(stored.slice(ENCRYPTED.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

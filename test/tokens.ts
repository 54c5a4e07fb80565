import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT, UnsecuredJWT } from 'jose';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export const ISSUER = 'https://id.voyages.test/';
export const AUDIENCE = 'communication';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyLike;
  jwk: JWK;
}

export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenOptions {
  sub: string;
  roles?: readonly string[];
  establishments?: readonly string[];
  audience?: string;
  issuer?: string;
  /** Expiry in seconds from now (negative: already expired). */
  expiresIn?: number;
}

export function signToken(key: SigningKey, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: options.roles ?? [], establishments: options.establishments ?? [] })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(options.sub)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(key.privateKey);
}

/** A token with `alg: none`: no signature at all, which must never get in. */
export function unsignedToken(options: TokenOptions): string {
  return new UnsecuredJWT({ roles: options.roles ?? [], establishments: options.establishments ?? [] })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(options.sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .encode();
}

/** The identity provider's JWKS endpoint, on 127.0.0.1; `keys` can be swapped to rotate them. */
export class JwksServer {
  keys: JWK[] = [];
  /** Set to 500 to play an identity provider that is down. */
  status = 200;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      response.writeHead(this.status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

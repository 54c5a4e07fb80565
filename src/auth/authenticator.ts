import { Injectable, Logger } from '@nestjs/common';
import { createHash, createPublicKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, JWTVerifyGetKey } from 'jose';
import { ApiError } from '../common/errors/api-error';
import { AppConfig, InjectConfig, JwtConfig } from '../config/app.config';
import { Caller, Role } from './caller';

const ROLES: readonly Role[] = ['customer', 'agent', 'admin'];
const MAX_ID_LENGTH = 255;
/** Clock skew tolerated between the token's issuer and this service. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** The `WWW-Authenticate` challenge of a 401 (RFC 6750): `invalid_token` when a token was sent. */
export function unauthorized(message: string, tokenSent: boolean, issue?: string): ApiError {
  const challenge = `Bearer realm="communication"${tokenSent ? ', error="invalid_token"' : ''}`;
  const details = issue ? [{ field: 'Authorization', location: 'header' as const, issue }] : [];
  return new ApiError('UNAUTHORIZED', message, details, { 'www-authenticate': challenge });
}

/**
 * Turns a bearer token into a Caller: an API key of API_KEYS (a service), else a JWT signed by the
 * configured issuer (a person). The token itself never reaches a log or an error.
 */
@Injectable()
export class Authenticator {
  private readonly logger = new Logger('Auth');
  /** SHA-256 of each key: equal-length digests, compared in constant time. */
  private readonly keys: Array<{ name: string; digest: Buffer }>;
  private readonly jwt?: { config: JwtConfig; key: KeyObject | JWTVerifyGetKey };

  constructor(@InjectConfig() config: AppConfig) {
    this.keys = config.auth.apiKeys.map(({ name, key }) => ({ name, digest: digest(key) }));
    const jwt = config.auth.jwt;
    if (jwt) {
      const key = jwt.jwksUrl
        ? createRemoteJWKSet(new URL(jwt.jwksUrl), {
            cooldownDuration: jwt.jwksCooldownSeconds * 1000,
            timeoutDuration: 5000,
          })
        : createPublicKey(jwt.publicKey!);
      this.jwt = { config: jwt, key };
    }
  }

  /** The caller behind `Authorization: Bearer <token>`; 401 when it is no valid key or token. */
  async authenticate(authorization: string): Promise<Caller> {
    const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1];
    if (!token)
      throw unauthorized(
        'The Authorization header must be "Bearer <API key or token>".',
        true,
        'must be Bearer followed by an API key or a token',
      );
    const service = this.serviceOf(token);
    if (service) return service;
    if (!this.jwt) throw unauthorized('The bearer token is not a valid API key.', true, 'not a valid API key');
    return this.personOf(token, this.jwt.config, this.jwt.key);
  }

  /** Every key is compared (no early exit), so the time taken does not tell which one nearly matched. */
  private serviceOf(token: string): Caller | null {
    const presented = digest(token);
    let name: string | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(presented, key.digest)) name = key.name;
    }
    return name === null ? null : { kind: 'service', id: name, roles: [], establishments: [] };
  }

  private async personOf(token: string, config: JwtConfig, key: KeyObject | JWTVerifyGetKey): Promise<Caller> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      };
      ({ payload } =
        typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (error) {
      throw this.rejection(error);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_ID_LENGTH) {
      throw unauthorized('The bearer token is not valid.', true, `sub must be 1 to ${MAX_ID_LENGTH} characters`);
    }
    return {
      kind: 'person',
      id: sub,
      roles: strings(payload.roles).filter((role): role is Role => (ROLES as readonly string[]).includes(role)),
      establishments: strings(payload.establishments),
    };
  }

  /** A bad token is the caller's problem (401); keys that cannot be fetched are ours (503). */
  private rejection(error: unknown): ApiError {
    if (error instanceof errors.JWTExpired) return unauthorized('The bearer token has expired.', true, 'expired');
    // A JWKS endpoint that times out, answers other than 200 (a generic JOSEError) or unreadable keys.
    const keysUnavailable =
      error instanceof errors.JWKSTimeout ||
      error instanceof errors.JWKSInvalid ||
      (error as errors.JOSEError)?.code === errors.JOSEError.code;
    if (keysUnavailable || !(error instanceof errors.JOSEError)) {
      this.logger.warn({ err: error }, 'The JWT signing keys could not be fetched');
      return new ApiError('SERVICE_UNAVAILABLE', 'Tokens cannot be verified right now; retry shortly.', [], {
        'retry-after': '5',
      });
    }
    const issue =
      error instanceof errors.JWTClaimValidationFailed ? `claim ${error.claim} ${error.reason}` : error.code;
    return unauthorized('The bearer token is not valid.', true, issue);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The string items of a claim that should be an array of ids; anything else counts for nothing. */
function strings(claim: unknown): string[] {
  return Array.isArray(claim)
    ? claim.filter(
        (item): item is string => typeof item === 'string' && item.length > 0 && item.length <= MAX_ID_LENGTH,
      )
    : [];
}

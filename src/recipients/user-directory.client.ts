import { Injectable, Logger } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { CORRELATION_HEADER } from '../common/correlation/correlation';
import { AppConfig, InjectConfig } from '../config/app.config';

export interface DirectoryEntry {
  email: string;
  firstName: string | null;
  lastName: string | null;
  locale: string | null;
}

/** The user directory could not answer (down, timeout, 5xx): worth retrying later. */
export class DirectoryUnavailableError extends Error {}

const MAX_CACHED = 10_000;

/**
 * The optional HTTP look-up `GET {USER_DIRECTORY_URL}/{id}`, cached in memory (answers and
 * "unknown" alike) for USER_DIRECTORY_CACHE_SECONDS so a mail to many receivers costs few calls.
 */
@Injectable()
export class UserDirectoryClient {
  private readonly logger = new Logger(UserDirectoryClient.name);
  private readonly cache = new Map<string, { entry: DirectoryEntry | null; expires: number }>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cls: ClsService,
  ) {}

  get enabled(): boolean {
    return this.config.directory.userDirectoryUrl !== undefined;
  }

  async lookUp(id: string): Promise<DirectoryEntry | null> {
    const { userDirectoryUrl, cacheTtlSeconds, timeoutMs } = this.config.directory;
    if (!userDirectoryUrl) return null;
    const cached = this.cache.get(id);
    if (cached && cached.expires > Date.now()) return cached.entry;

    let response: Response;
    try {
      response = await fetch(`${userDirectoryUrl}/${encodeURIComponent(id)}`, {
        headers: { accept: 'application/json', [CORRELATION_HEADER]: this.cls.getId() ?? '' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new DirectoryUnavailableError(`User directory unreachable: ${(error as Error).message}`);
    }
    let entry: DirectoryEntry | null = null;
    if (response.ok) {
      entry = parseEntry(await response.json().catch(() => null));
      if (!entry) this.logger.warn({ receiverId: id }, 'User directory answered without a usable e-mail address');
    } else if (response.status !== 404) {
      throw new DirectoryUnavailableError(`User directory answered ${response.status}`);
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, { entry, expires: Date.now() + cacheTtlSeconds * 1000 });
    return entry;
  }
}

function parseEntry(body: unknown): DirectoryEntry | null {
  if (!body || typeof body !== 'object') return null;
  const { email, firstName, lastName, locale } = body as Record<string, unknown>;
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) return null;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null);
  return { email, firstName: text(firstName), lastName: text(lastName), locale: text(locale) };
}

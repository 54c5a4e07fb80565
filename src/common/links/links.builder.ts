import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { LinkDto } from './link.dto';

export const BASE_URL_KEY = 'requestBaseUrl';
const JSON_TYPE = 'application/json';

export interface Page<T> {
  totalElements: number;
  totalPages: number;
  currentPage: number;
  content: T[];
  links: LinkDto[];
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The one place that builds URLs: absolute, from PUBLIC_BASE_URL or else from the request being
 * served. Mappers call it; controllers and services never build a URL themselves.
 */
@Injectable()
export class LinksBuilder {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cls: ClsService,
  ) {}

  baseUrl(): string {
    return (
      this.config.http.publicBaseUrl ??
      this.cls.get<string>(BASE_URL_KEY) ??
      `http://localhost:${this.config.http.port}`
    );
  }

  url(path: string, query?: Record<string, string | number | undefined>): string {
    const url = new URL(this.baseUrl() + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  link(rel: string, method: HttpMethod, path: string, title: string, mediaType = JSON_TYPE): LinkDto {
    return { href: this.url(path), rel, title, mediaType, method, encType: JSON_TYPE };
  }

  /**
   * The page envelope of a list: its counts, its content and its links. `filters` are repeated in
   * the links so that next/prev stay on the same selection (the `cursor` of a page is not).
   */
  page<T>(
    path: string,
    content: T[],
    totalElements: number,
    currentPage: number,
    sizePage: number,
    filters: Record<string, string | number | undefined> = {},
    nextCursor?: string,
  ): Page<T> {
    const totalPages = Math.ceil(totalElements / sizePage);
    return {
      totalElements,
      totalPages,
      currentPage,
      content,
      links: this.pageLinks(path, { ...filters, sizePage }, currentPage, totalPages, nextCursor),
    };
  }

  /** `self`, `first`, `last` and, where they exist, `prev` and `next` of a page. */
  private pageLinks(
    path: string,
    query: Record<string, string | number | undefined>,
    page: number,
    totalPages: number,
    nextCursor?: string,
  ): LinkDto[] {
    const last = Math.max(totalPages, 1);
    const to = (rel: string, target: number, title: string, cursor?: string): LinkDto => ({
      href: this.url(path, { ...query, currentPage: target, cursor }),
      rel,
      title,
      mediaType: JSON_TYPE,
      method: 'GET',
      encType: JSON_TYPE,
    });
    const links = [to('self', page, 'This page'), to('first', 1, 'First page'), to('last', last, 'Last page')];
    if (page > 1) links.push(to('prev', Math.min(page - 1, last), 'Previous page'));
    // A keyset cursor, when the list offers one, lets the next page start where this one ended
    // instead of skipping every row before it.
    if (page < last) links.push(to('next', page + 1, 'Next page', nextCursor));
    return links;
  }
}

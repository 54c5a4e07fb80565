import type { ErrorDetail } from '../errors/api-error';

/** How other APIs spell the page parameters, and the name this one uses (the seed's). */
const PAGE_PARAMETER_SPELLINGS: Record<string, string> = {
  pageSize: 'sizePage',
  page_size: 'sizePage',
  pagesize: 'sizePage',
  size: 'sizePage',
  limit: 'sizePage',
  perPage: 'sizePage',
  per_page: 'sizePage',
  page: 'currentPage',
  pageNumber: 'currentPage',
  page_number: 'currentPage',
  pageIndex: 'currentPage',
};

/**
 * The detail of a query parameter no DTO declares ("should not exist" from class-validator's
 * whitelist) rewritten for the caller: it says what is wrong and, for a page parameter spelled as
 * elsewhere (`pageSize`, `limit`, `page`…), names the one that exists.
 */
export function explainUnknownQueryParameter(detail: ErrorDetail): void {
  if (detail.issue !== 'should not exist') return;
  const meant = Object.hasOwn(PAGE_PARAMETER_SPELLINGS, detail.field)
    ? PAGE_PARAMETER_SPELLINGS[detail.field]
    : undefined;
  detail.issue = meant ? `unknown query parameter; did you mean ${meant}?` : 'unknown query parameter';
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { LinkDto } from '../links/link.dto';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 10;
/** Deeper pages are refused (400) rather than sent to the database as a huge offset. */
export const MAX_PAGE = 1_000_000;

/** `currentPage` (1-based) and `sizePage` of a list endpoint whose pages hold at least one item. */
export class PageQueryDto {
  /** The page to read, 1-based. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  @ApiPropertyOptional({ default: 1 })
  currentPage: number = 1;

  /** Items per page. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  @ApiPropertyOptional({ default: DEFAULT_PAGE_SIZE })
  sizePage: number = DEFAULT_PAGE_SIZE;
}

/** Pages whose size the seed bounds at 3 or more (contact threads, conversation lists). */
export class PageOfThreeQueryDto extends PageQueryDto {
  /** Items per page, at least 3. */
  @Type(() => Number)
  @IsInt()
  @Min(3)
  @Max(MAX_PAGE_SIZE)
  @ApiPropertyOptional({ default: DEFAULT_PAGE_SIZE })
  override sizePage: number = DEFAULT_PAGE_SIZE;
}

/** The page envelope; each list endpoint declares its own subclass so Swagger shows `content`. */
export abstract class PageDto<T> {
  totalElements: number;
  totalPages: number;
  currentPage: number;
  abstract content: T[];
  links: LinkDto[];
}

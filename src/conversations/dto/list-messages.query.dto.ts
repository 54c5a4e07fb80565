import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE } from '../../common/pagination/page.dto';

/** The seed allows `currentPage=0` here, read as page 1, and pages of a single message. */
export class ListMessagesQueryDto {
  /** The page to read, 1-based; 0 is read as 1. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
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

import { Body, Controller, Get, Param, ParseEnumPipe, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { MailCategory } from '../catalog/mail-category';
import { ApiError } from '../common/errors/api-error';
import { CategoryRetentionService } from './category-retention.service';
import { CategoryRetentionDto, PutCategoryRetentionDto } from './dto/category-retention.dto';

const categoryPipe = new ParseEnumPipe(MailCategory, {
  exceptionFactory: () => new ApiError('RESOURCE_NOT_FOUND', 'There is no such mail category.'),
});

@ApiTags('retention')
@Controller('v1/categories/:category/retention')
export class CategoryRetentionController {
  constructor(private readonly retentions: CategoryRetentionService) {}

  /** How many days mails of this category are kept before their personal data are purged (0: for ever). */
  @Get()
  get(@Param('category', categoryPipe) category: MailCategory): Promise<CategoryRetentionDto> {
    return this.retentions.get(category);
  }

  /** Set how many days mails of this category are kept (0: for ever); the next purge applies it to mails already stored. */
  @Put()
  put(
    @Param('category', categoryPipe) category: MailCategory,
    @Body() dto: PutCategoryRetentionDto,
  ): Promise<CategoryRetentionDto> {
    return this.retentions.put(category, dto);
  }
}

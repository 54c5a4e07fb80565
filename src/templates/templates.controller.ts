import { Controller, Get, Param, ParseEnumPipe, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { MailCategory } from '../catalog/mail-category';
import { PreviewQueryDto } from './dto/preview-query.dto';
import { TemplateDto, TemplateListDto } from './dto/template.dto';
import { TemplatesService } from './templates.service';

const categoryPipe = new ParseEnumPipe(MailCategory, {
  exceptionFactory: () => new ApiError('RESOURCE_NOT_FOUND', 'There is no template for this category.'),
});

@ApiTags('templates')
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  /** List the mail categories with what each requires, the variables it declares and its subjects. */
  @Get()
  list(): TemplateListDto {
    return this.templates.list();
  }

  /** One category: the ids it requires, the variables it declares (name, type, required, example) and its subjects. */
  @Get(':category')
  get(@Param('category', categoryPipe) category: MailCategory): TemplateDto {
    return this.templates.get(category);
  }

  /** Render a category's mail with its declared example values, as the receiver would see it (`format=text`: the plain-text part). */
  @Get(':category/preview')
  @ApiProduces('text/html', 'text/plain')
  @ApiOkResponse({
    description: 'The rendered mail.',
    content: { 'text/html': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } },
  })
  preview(@Param('category', categoryPipe) category: MailCategory, @Query() query: PreviewQueryDto): StreamableFile {
    const body = this.templates.preview(category, query.locale, query.format);
    return new StreamableFile(Buffer.from(body, 'utf8'), {
      type: `${query.format === 'text' ? 'text/plain' : 'text/html'}; charset=utf-8`,
    });
  }
}
